/** Every appointment of the patient the server shows this clinician, newest first. */
import { Badge, Table, Text } from '@mantine/core';
import type { Appointment } from '@medplum/fhirtypes';
import { ResourceName } from '@medplum/react';
import type { ChartProps } from '../pages/PatientChart.tsx';
import { formatDateTime, useLoaded } from '../fhir.ts';
import { RefusalAlert } from './RefusalAlert.tsx';
import { Section } from './Section.tsx';

/** The provider side of an appointment (a Practitioner or PractitionerRole participant). */
function providerOf(a: Appointment) {
  return a.participant?.find((p) => /^Practitioner(Role)?\//.test(p.actor?.reference ?? ''))?.actor;
}

export function PatientAppointments({ session, patientId }: ChartProps) {
  const appointments = useLoaded(
    () => session.medplum.searchResources('Appointment', { patient: `Patient/${patientId}`, _sort: '-date', _count: '100' }),
    [session.medplum, patientId],
  );
  return (
    <Section title="Appointments">
      <RefusalAlert title="The appointments could not be loaded" message={appointments.error} />
      {appointments.data?.length === 0 && <Text c="dimmed">No appointments.</Text>}
      {!!appointments.data?.length && (
        <Table>
          <Table.Thead>
            <Table.Tr><Table.Th>When</Table.Th><Table.Th>With</Table.Th><Table.Th>Reason</Table.Th><Table.Th>Status</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {appointments.data.map((a) => {
              const provider = providerOf(a);
              return (
                <Table.Tr key={a.id}>
                  <Table.Td>{formatDateTime(a.start)}</Table.Td>
                  <Table.Td>{provider ? <ResourceName value={provider} /> : '—'}</Table.Td>
                  <Table.Td>{a.description ?? '—'}</Table.Td>
                  <Table.Td><Badge variant="light">{a.status}</Badge></Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Section>
  );
}
