/**
 * The patient's diagnoses (Conditions), with a form to record one as the signed-in clinician, who
 * may also mark their own active diagnoses resolved (the server refuses it for anyone else's).
 */
import { Button, Group, Table, Text, TextInput } from '@mantine/core';
import type { Condition, Encounter, Reference } from '@medplum/fhirtypes';
import { CodeableConceptDisplay } from '@medplum/react';
import { useState, type FormEvent } from 'react';
import type { ChartProps } from '../pages/PatientChart.tsx';
import { formatDateTime, useLoaded } from '../fhir.ts';
import { useWrite } from '../useWrite.ts';
import { encounterOf } from '../visit.ts';
import { RefusalAlert } from './RefusalAlert.tsx';
import { Section } from './Section.tsx';

const CLINICAL_STATUS = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

function newDiagnosis(patientId: string, recorder: string, text: string, encounter?: Reference<Encounter>): Condition {
  return {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: CLINICAL_STATUS, code: 'active' }] },
    category: [{ coding: [{ system: CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code: { text },
    subject: { reference: `Patient/${patientId}` },
    recordedDate: new Date().toISOString(),
    recorder: { reference: recorder },
    ...(encounter ? { encounter } : {}),
  };
}

const isActive = (c: Condition) => (c.clinicalStatus?.coding?.[0]?.code ?? 'active') === 'active';

export function ConditionsSection({ session, patientId, visit }: ChartProps) {
  const conditions = useLoaded(
    () => session.medplum.searchResources('Condition', { patient: `Patient/${patientId}`, _sort: '-recorded-date', _count: '100' }),
    [session.medplum, patientId],
  );
  const [text, setText] = useState('');
  const write = useWrite();

  async function record(e: FormEvent) {
    e.preventDefault();
    const recorder = session.fhirUser as string;
    if (await write.run(async () => session.medplum.createResource(newDiagnosis(patientId, recorder, text.trim(), await encounterOf(visit))))) {
      setText('');
      conditions.reload();
    }
  }

  async function resolve(c: Condition) {
    const ops = [
      { op: 'add' as const, path: '/clinicalStatus', value: { coding: [{ system: CLINICAL_STATUS, code: 'resolved' }] } },
      { op: 'add' as const, path: '/abatementDateTime', value: new Date().toISOString() },
    ];
    if (await write.run(() => session.medplum.patchResource('Condition', c.id as string, ops))) conditions.reload();
  }

  return (
    <Section title="Diagnoses">
      <RefusalAlert title="The diagnoses could not be loaded" message={conditions.error} />
      {conditions.data?.length === 0 && <Text c="dimmed">No diagnoses recorded.</Text>}
      {!!conditions.data?.length && (
        <Table>
          <Table.Thead>
            <Table.Tr><Table.Th>Diagnosis</Table.Th><Table.Th>Status</Table.Th><Table.Th>Recorded</Table.Th><Table.Th aria-label="Actions" /></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {conditions.data.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td><CodeableConceptDisplay value={c.code} /></Table.Td>
                <Table.Td>{c.clinicalStatus?.coding?.[0]?.code ?? '—'}</Table.Td>
                <Table.Td>{formatDateTime(c.recordedDate ?? c.meta?.lastUpdated)}</Table.Td>
                <Table.Td>
                  {isActive(c) && c.recorder?.reference === session.fhirUser && (
                    <Button size="xs" variant="light" loading={write.busy} onClick={() => resolve(c)} aria-label={`Resolve ${c.code?.text ?? 'diagnosis'}`}>
                      Resolve
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <form onSubmit={record}>
        <Group align="end">
          <TextInput label="Diagnosis" value={text} onChange={(e) => setText(e.currentTarget.value)} />
          <Button type="submit" loading={write.busy} disabled={!text.trim()}>Record diagnosis</Button>
        </Group>
      </form>
      <RefusalAlert title="The diagnosis was not saved" message={write.error} />
    </Section>
  );
}
