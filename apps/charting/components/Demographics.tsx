/** Who the patient is: name, birth date, sex, contact details and address. */
import { Table } from '@mantine/core';
import type { Patient } from '@medplum/fhirtypes';
import { displayName } from '../fhir.ts';
import { Section } from './Section.tsx';

export function Demographics({ patient }: { patient: Patient }) {
  const address = patient.address?.[0];
  const rows: [string, string | undefined][] = [
    ['Name', displayName(patient.name)],
    ['Date of birth', patient.birthDate],
    ['Sex', patient.gender],
    ['Phone', patient.telecom?.find((t) => t.system === 'phone')?.value],
    ['E-mail', patient.telecom?.find((t) => t.system === 'email')?.value],
    ['Address', address ? (address.text ?? [...(address.line ?? []), address.city, address.postalCode].filter(Boolean).join(', ')) : undefined],
  ];
  return (
    <Section title="Demographics">
      <Table>
        <Table.Tbody>
          {rows.map(([label, value]) => (
            <Table.Tr key={label}>
              <Table.Th w={160}>{label}</Table.Th>
              <Table.Td>{value || '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Section>
  );
}
