/** The patient's visit notes, newest first, with a form to add one in the clinician's name. */
import { Button, Stack, Text, Textarea } from '@mantine/core';
import type { DocumentReference } from '@medplum/fhirtypes';
import { useState, type FormEvent } from 'react';
import type { ChartProps } from '../pages/PatientChart.tsx';
import { useLoaded } from '../fhir.ts';
import { isVisitNote, newVisitNote } from '../notes.ts';
import { useWrite } from '../useWrite.ts';
import { encounterOf } from '../visit.ts';
import { NoteItem } from './NoteItem.tsx';
import { RefusalAlert } from './RefusalAlert.tsx';
import { Section } from './Section.tsx';

export function NotesSection({ session, patientId, visit }: ChartProps) {
  const notes = useLoaded(
    async () => (await session.medplum.searchResources('DocumentReference', { patient: `Patient/${patientId}`, _sort: '-date', _count: '100' })).filter(isVisitNote),
    [session.medplum, patientId],
  );
  return (
    <Section title="Visit notes">
      <RefusalAlert title="The notes could not be loaded" message={notes.error} />
      {notes.data?.length === 0 && <Text c="dimmed">No notes yet.</Text>}
      {notes.data?.map((note: DocumentReference) => <NoteItem key={note.id} session={session} note={note} onSaved={notes.reload} />)}
      <AddNoteForm session={session} patientId={patientId} visit={visit} onSaved={notes.reload} />
    </Section>
  );
}

function AddNoteForm({ session, patientId, visit, onSaved }: ChartProps & { onSaved: () => void }) {
  const [text, setText] = useState('');
  const write = useWrite();
  async function save(e: FormEvent) {
    e.preventDefault();
    const author = session.fhirUser as string;
    const saved = await write.run(async () => session.medplum.createResource(newVisitNote(patientId, author, text.trim(), await encounterOf(visit))));
    if (saved) {
      setText('');
      onSaved();
    }
  }
  return (
    <form onSubmit={save}>
      <Stack gap="xs">
        <Textarea label="New visit note" autosize minRows={3} value={text} onChange={(e) => setText(e.currentTarget.value)} />
        <RefusalAlert title="The note was not saved" message={write.error} />
        <Button type="submit" loading={write.busy} disabled={!text.trim()} w="fit-content">
          Add note
        </Button>
      </Stack>
    </form>
  );
}
