/**
 * Step 1: find a provider by profession, specialty and centre or suburb, and choose one. Each
 * provider shows the patients' average rating of them and of their centre.
 */
import { Button, Card, Group, NativeSelect, Stack, Text, TextInput } from '@mantine/core';
import { useMedplum } from '@medplum/react';
import { useState, type FormEvent } from 'react';
import { findProviders, type Provider, type ProviderQuery } from '../directory.ts';
import { conceptText, nameOf } from '../format.ts';
import { summaryOf, summaryText } from '../ratings.ts';
import { ServerError } from './ServerError.tsx';

/** PractitionerRole.code values given by the import (CONTRACT "Accounts and import"). */
const ROLES = [
  { value: '', label: 'Any' },
  { value: 'gp', label: 'GP' },
  { value: 'specialist', label: 'Specialist' },
  { value: 'nurse', label: 'Nurse' },
  { value: 'physiotherapist', label: 'Physiotherapist' },
  { value: 'pharmacist', label: 'Pharmacist' },
  { value: 'pathologist', label: 'Pathologist' },
  { value: 'radiographer', label: 'Radiographer' },
];

export function ProviderSearch({ onChoose }: { onChoose: (provider: Provider) => void }) {
  const medplum = useMedplum();
  const [query, setQuery] = useState<ProviderQuery>({ role: 'gp', specialty: '', centre: '' });
  const [providers, setProviders] = useState<Provider[]>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const set = (field: keyof ProviderQuery) => (value: string) => setQuery((q) => ({ ...q, [field]: value }));

  async function search(event: FormEvent) {
    event.preventDefault();
    setLoading(true);
    setError(undefined);
    try {
      setProviders(await findProviders(medplum, query));
    } catch (e) {
      setError(e);
      setProviders(undefined);
    } finally {
      setLoading(false);
    }
  }

  return (
    <Stack>
      <form onSubmit={search} aria-label="Find a provider">
        <Group align="end">
          <NativeSelect label="Profession" data={ROLES} value={query.role} onChange={(e) => set('role')(e.currentTarget.value)} />
          <TextInput label="Specialty" placeholder="e.g. cardiology" value={query.specialty} onChange={(e) => set('specialty')(e.currentTarget.value)} />
          <TextInput label="Centre or suburb" placeholder="e.g. Randwick" value={query.centre} onChange={(e) => set('centre')(e.currentTarget.value)} />
          <Button type="submit" loading={loading}>Search</Button>
        </Group>
      </form>
      <ServerError title="The search failed" error={error} />
      {providers?.length === 0 && <Text>No provider matches your search.</Text>}
      {providers?.map((p) => <ProviderCard key={p.role.id} provider={p} onChoose={() => onChoose(p)} />)}
    </Stack>
  );
}

function ProviderCard({ provider, onChoose }: { provider: Provider; onChoose: () => void }) {
  const name = nameOf(provider.practitioner);
  const profession = conceptText(provider.role.code);
  const specialty = conceptText(provider.role.specialty);
  const centre = provider.location?.name ?? provider.organization?.name ?? 'Unknown centre';
  const suburb = provider.location?.address?.city ?? provider.organization?.address?.[0]?.city;
  // The server puts the provider's summary on their roles too, and the centre's on its locations.
  const providerRating = summaryOf(provider.role) ?? summaryOf(provider.practitioner);
  const centreRating = summaryOf(provider.location) ?? summaryOf(provider.organization);
  return (
    <Card withBorder component="article" aria-label={name}>
      <Group justify="space-between">
        <div>
          <Text fw={600}>{name}</Text>
          <Text size="sm">{[profession, specialty].filter(Boolean).join(' · ')}</Text>
          <Text size="sm" c="dimmed">{suburb ? `${centre}, ${suburb}` : centre}</Text>
          <Text size="sm">
            {providerRating ? `Provider: ${summaryText(providerRating)}` : 'Provider: not rated yet'}
            {centreRating ? ` · Centre: ${summaryText(centreRating)}` : ''}
          </Text>
        </div>
        <Button variant="light" onClick={onChoose} aria-label={`See free times of ${name} at ${centre}`}>
          See free times
        </Button>
      </Group>
    </Card>
  );
}
