/**
 * The patient's documents: every DocumentReference that is not a visit note (reports the patient
 * uploaded, letters...). Inline text is shown; other attachments are listed by title and type.
 */
import { Anchor, Card, Stack, Text } from '@mantine/core';
import { CodeableConceptDisplay } from '@medplum/react';
import type { ChartProps } from '../pages/PatientChart.tsx';
import { formatDateTime, useLoaded } from '../fhir.ts';
import { isVisitNote, noteText } from '../notes.ts';
import { RefusalAlert } from './RefusalAlert.tsx';
import { Section } from './Section.tsx';

export function DocumentsSection({ session, patientId }: ChartProps) {
  const documents = useLoaded(
    async () => (await session.medplum.searchResources('DocumentReference', { patient: `Patient/${patientId}`, _sort: '-date', _count: '100' })).filter((d) => !isVisitNote(d)),
    [session.medplum, patientId],
  );
  return (
    <Section title="Documents">
      <RefusalAlert title="The documents could not be loaded" message={documents.error} />
      {documents.data?.length === 0 && <Text c="dimmed">No documents.</Text>}
      {documents.data?.map((doc) => {
        const attachment = doc.content?.[0]?.attachment;
        return (
          <Card key={doc.id} withBorder component="article" aria-label={`Document ${doc.description ?? attachment?.title ?? doc.id}`}>
            <Stack gap={4}>
              <Text fw={600}>{doc.description ?? attachment?.title ?? 'Untitled document'}</Text>
              <Text size="sm" c="dimmed">
                {formatDateTime(doc.date ?? doc.meta?.lastUpdated)} · {doc.type ? <CodeableConceptDisplay value={doc.type} /> : attachment?.contentType ?? 'unknown type'}
              </Text>
              {noteText(doc) && <Text style={{ whiteSpace: 'pre-wrap' }}>{noteText(doc)}</Text>}
              {/^https?:\/\//.test(attachment?.url ?? '') && (
                <Anchor href={attachment?.url} target="_blank" rel="noreferrer">
                  Open {attachment?.title ?? 'the document'}
                </Anchor>
              )}
            </Stack>
          </Card>
        );
      })}
    </Section>
  );
}
