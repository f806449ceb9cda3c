/**
 * Rating the provider of a past visit: the patient's current rating of them, and a form (1–5
 * stars, an optional comment) to give or change it. The server decides who may rate; a refusal
 * shows its own message.
 */
import { Button, Group, Rating, Stack, Text, Textarea } from '@mantine/core';
import { useMedplum } from '@medplum/react';
import type { Basic } from '@medplum/fhirtypes';
import { useState } from 'react';
import { rateProvider, scoreOf } from '../ratings.ts';
import { ServerError } from './ServerError.tsx';

export interface RateProviderProps {
  patient: string;
  /** "Practitioner/id" of the provider. */
  practitioner: string;
  providerName: string;
  /** The patient's current rating of the provider, if any. */
  current?: Basic;
  onRated: () => void;
}

export function RateProvider({ patient, practitioner, providerName, current, onRated }: RateProviderProps) {
  const medplum = useMedplum();
  const [open, setOpen] = useState(false);
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState('');
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>();
  const currentScore = current ? scoreOf(current) : undefined;

  async function save() {
    setSaving(true);
    setError(undefined);
    try {
      await rateProvider(medplum, patient, practitioner, score, comment);
      setOpen(false);
      setSaved(true);
      onRated();
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  }

  if (!open) {
    return (
      <Stack gap={4}>
        {saved && <Text size="sm" role="status">Thank you: your rating of {providerName} was saved.</Text>}
        <Group>
          {currentScore !== undefined && <Text size="sm">Your rating: {currentScore} of 5</Text>}
          <Button variant="light" size="xs" onClick={() => { setScore(currentScore ?? 0); setOpen(true); setSaved(false); }}>
            {currentScore !== undefined ? 'Change your rating' : `Rate ${providerName}`}
          </Button>
        </Group>
      </Stack>
    );
  }
  return (
    <Stack gap="xs" component="form" aria-label={`Rate ${providerName}`} onSubmit={(e) => { e.preventDefault(); void save(); }}>
      <Group gap="xs">
        <Text size="sm" id={`stars-${practitioner}`}>Stars</Text>
        <Rating value={score} onChange={setScore} aria-labelledby={`stars-${practitioner}`} getSymbolLabel={(v) => `${v} of 5 stars`} />
      </Group>
      <Textarea label="Comment (optional)" value={comment} onChange={(e) => setComment(e.currentTarget.value)} maxLength={1000} autosize minRows={2} />
      <ServerError title="The rating was not saved" error={error} />
      <Group>
        <Button type="submit" size="xs" loading={saving} disabled={score < 1}>Save rating</Button>
        <Button variant="subtle" size="xs" onClick={() => setOpen(false)}>Cancel</Button>
      </Group>
    </Stack>
  );
}
