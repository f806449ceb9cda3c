/**
 * Finding a patient by name. The server answers only with patients this clinician may see
 * (those who have an appointment with them), so nobody else can be opened from here.
 */
import { Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import type { Patient } from '@medplum/fhirtypes';
import { useState, type FormEvent } from 'react';
import type { Session } from '../../shared/AppShell.tsx';
import { displayName } from '../fhir.ts';
import { serverMessage } from '../../shared/server-message.ts';
import { chartHref } from '../route.ts';
import { RefusalAlert } from './RefusalAlert.tsx';

export function PatientSearch({ session }: { session: Session }) {
  const [name, setName] = useState('');
  const [found, setFound] = useState<Patient[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function search(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setFound(await session.medplum.searchResources('Patient', { name: name.trim(), _count: '50' }));
    } catch (err) {
      setFound(undefined);
      setError(serverMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack component="section" aria-label="Find a patient">
      <Title order={2}>Find a patient</Title>
      <form onSubmit={search}>
        <Group align="end">
          <TextInput label="Patient name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <Button type="submit" loading={busy}>Search</Button>
        </Group>
      </form>
      <RefusalAlert title="The search failed" message={error} />
      {found?.length === 0 && <Text>No patients of yours match this name.</Text>}
      {found?.map((p) => (
        <Card key={p.id} withBorder component="article" aria-label={`Patient ${displayName(p.name)}`}>
          <Group justify="space-between">
            <Text fw={600}>{displayName(p.name)}</Text>
            <Text size="sm">{p.birthDate ? `Born ${p.birthDate}` : ''}</Text>
            <Button component="a" href={chartHref(p.id as string)} aria-label={`Open chart of ${displayName(p.name)}`}>
              Open chart
            </Button>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}
