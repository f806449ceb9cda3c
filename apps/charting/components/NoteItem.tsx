/**
 * One visit note: its author, date and text, and an editor. Every note offers "Edit note": the
 * server decides whether this clinician wrote it, and its refusal is shown as it says it.
 */
import { Button, Card, Group, Stack, Text, Textarea } from '@mantine/core';
import type { DocumentReference, Practitioner } from '@medplum/fhirtypes';
import { useResource } from '@medplum/react-hooks';
import { useState } from 'react';
import type { Session } from '../../shared/AppShell.tsx';
import { displayName, formatDateTime } from '../fhir.ts';
import { editedNote, noteText } from '../notes.ts';
import { useWrite } from '../useWrite.ts';
import { RefusalAlert } from './RefusalAlert.tsx';

export function NoteItem({ session, note, onSaved }: { session: Session; note: DocumentReference; onSaved: () => void }) {
  const text = noteText(note) ?? note.description ?? '';
  const [draft, setDraft] = useState<string>();
  const write = useWrite();
  const when = formatDateTime(note.date ?? note.meta?.lastUpdated);
  // The author's name (directory data, readable by everyone) names the card for screen readers too.
  const author = useResource<Practitioner>(note.author?.[0] as { reference: string } | undefined);
  const authorName = author ? displayName(author.name) : (note.author?.[0]?.display ?? 'unknown author');

  async function save() {
    if (await write.run(() => session.medplum.updateResource(editedNote(note, (draft ?? '').trim())))) {
      setDraft(undefined);
      onSaved();
    }
  }

  return (
    <Card withBorder component="article" aria-label={`Note by ${authorName} on ${when}`}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            {when} · {authorName}
          </Text>
          {draft === undefined && (
            <Button size="xs" variant="light" onClick={() => setDraft(text)}>
              Edit note
            </Button>
          )}
        </Group>
        {draft === undefined ? (
          <Text style={{ whiteSpace: 'pre-wrap' }}>{text}</Text>
        ) : (
          <>
            <Textarea label="Note text" autosize minRows={3} value={draft} onChange={(e) => setDraft(e.currentTarget.value)} />
            <RefusalAlert title="The note was not changed" message={write.error} />
            <Group>
              <Button size="xs" onClick={save} loading={write.busy} disabled={!draft.trim()}>
                Save changes
              </Button>
              <Button size="xs" variant="subtle" onClick={() => setDraft(undefined)}>
                Cancel
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Card>
  );
}
