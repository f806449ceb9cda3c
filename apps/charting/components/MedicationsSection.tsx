/**
 * The patient's prescriptions (MedicationRequests), with a form to prescribe as the signed-in
 * clinician, who may also stop their own active prescriptions (the server refuses anyone else's).
 */
import { Button, Group, Table, Text, TextInput } from '@mantine/core';
import type { Encounter, MedicationRequest, Reference } from '@medplum/fhirtypes';
import { CodeableConceptDisplay } from '@medplum/react';
import { useState, type FormEvent } from 'react';
import type { ChartProps } from '../pages/PatientChart.tsx';
import { formatDateTime, useLoaded } from '../fhir.ts';
import { useWrite } from '../useWrite.ts';
import { encounterOf } from '../visit.ts';
import { RefusalAlert } from './RefusalAlert.tsx';
import { Section } from './Section.tsx';

function newPrescription(patientId: string, requester: string, medication: string, dosage: string, encounter?: Reference<Encounter>): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text: medication },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: new Date().toISOString(),
    requester: { reference: requester },
    ...(dosage ? { dosageInstruction: [{ text: dosage }] } : {}),
    ...(encounter ? { encounter } : {}),
  };
}

export function MedicationsSection({ session, patientId, visit }: ChartProps) {
  const requests = useLoaded(
    () => session.medplum.searchResources('MedicationRequest', { patient: `Patient/${patientId}`, _sort: '-authoredon', _count: '100' }),
    [session.medplum, patientId],
  );
  const [medication, setMedication] = useState('');
  const [dosage, setDosage] = useState('');
  const write = useWrite();

  async function prescribe(e: FormEvent) {
    e.preventDefault();
    const requester = session.fhirUser as string;
    const createRequest = async () => session.medplum.createResource(newPrescription(patientId, requester, medication.trim(), dosage.trim(), await encounterOf(visit)));
    if (await write.run(createRequest)) {
      setMedication('');
      setDosage('');
      requests.reload();
    }
  }

  async function stop(r: MedicationRequest) {
    const ops = [{ op: 'replace' as const, path: '/status', value: 'stopped' }];
    if (await write.run(() => session.medplum.patchResource('MedicationRequest', r.id as string, ops))) requests.reload();
  }

  return (
    <Section title="Medications">
      <RefusalAlert title="The medications could not be loaded" message={requests.error} />
      {requests.data?.length === 0 && <Text c="dimmed">No prescriptions.</Text>}
      {!!requests.data?.length && (
        <Table>
          <Table.Thead>
            <Table.Tr><Table.Th>Medication</Table.Th><Table.Th>Dosage</Table.Th><Table.Th>Status</Table.Th><Table.Th>Prescribed</Table.Th><Table.Th aria-label="Actions" /></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {requests.data.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td><CodeableConceptDisplay value={r.medicationCodeableConcept} /></Table.Td>
                <Table.Td>{r.dosageInstruction?.[0]?.text ?? '—'}</Table.Td>
                <Table.Td>{r.status}</Table.Td>
                <Table.Td>{formatDateTime(r.authoredOn ?? r.meta?.lastUpdated)}</Table.Td>
                <Table.Td>
                  {r.status === 'active' && r.requester?.reference === session.fhirUser && (
                    <Button size="xs" variant="light" loading={write.busy} onClick={() => stop(r)} aria-label={`Stop ${r.medicationCodeableConcept?.text ?? 'prescription'}`}>
                      Stop
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <form onSubmit={prescribe}>
        <Group align="end">
          <TextInput label="Medication" value={medication} onChange={(e) => setMedication(e.currentTarget.value)} />
          <TextInput label="Dosage instructions" value={dosage} onChange={(e) => setDosage(e.currentTarget.value)} />
          <Button type="submit" loading={write.busy} disabled={!medication.trim()}>Prescribe</Button>
        </Group>
      </form>
      <RefusalAlert title="The prescription was not saved" message={write.error} />
    </Section>
  );
}
