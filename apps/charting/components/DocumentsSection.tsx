/**
 * The patient's documents: every DocumentReference that is not a visit note (reports the patient
 * brought, letters...). Inline text is shown, inline files can be downloaded, linked ones opened;
 * the clinician can upload a file (a report, a scan) to the chart.
 */
import { Anchor, Button, Card, FileInput, Group, Stack, Text, TextInput } from '@mantine/core';
import type { Attachment } from '@medplum/fhirtypes';
import { CodeableConceptDisplay } from '@medplum/react';
import { useEffect, useState, type FormEvent } from 'react';
import type { ChartProps } from '../pages/PatientChart.tsx';
import { attachmentUrl, MAX_UPLOAD_BYTES, uploadedDocument } from '../attachments.ts';
import { formatDateTime, useLoaded } from '../fhir.ts';
import { isVisitNote, noteText } from '../notes.ts';
import { useWrite } from '../useWrite.ts';
import { encounterOf } from '../visit.ts';
import { RefusalAlert } from './RefusalAlert.tsx';
import { Section } from './Section.tsx';

/** A download link for an inline file (its object URL freed when the link goes). */
function DownloadLink({ attachment }: { attachment: Attachment }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const made = attachmentUrl(attachment);
    setUrl(made);
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [attachment]);
  if (!url) return null;
  const name = attachment.title ?? 'document';
  return <Anchor href={url} download={name}>Download {name}</Anchor>;
}

export function DocumentsSection({ session, patientId, visit }: ChartProps) {
  const documents = useLoaded(
    async () => (await session.medplum.searchResources('DocumentReference', { patient: `Patient/${patientId}`, _sort: '-date', _count: '100' })).filter((d) => !isVisitNote(d)),
    [session.medplum, patientId],
  );
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState('');
  const [tooBig, setTooBig] = useState(false);
  const write = useWrite();

  async function upload(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    if (file.size > MAX_UPLOAD_BYTES) {
      setTooBig(true);
      return;
    }
    const author = session.fhirUser as string;
    if (await write.run(async () => session.medplum.createResource(await uploadedDocument(patientId, author, file, title, await encounterOf(visit))))) {
      setFile(null);
      setTitle('');
      documents.reload();
    }
  }

  return (
    <Section title="Documents">
      <RefusalAlert title="The documents could not be loaded" message={documents.error} />
      {documents.data?.length === 0 && <Text c="dimmed">No documents.</Text>}
      {documents.data?.map((doc) => {
        const attachment = doc.content?.[0]?.attachment;
        const text = noteText(doc);
        return (
          <Card key={doc.id} withBorder component="article" aria-label={`Document ${doc.description ?? attachment?.title ?? doc.id}`}>
            <Stack gap={4}>
              <Text fw={600}>{doc.description ?? attachment?.title ?? 'Untitled document'}</Text>
              <Text size="sm" c="dimmed">
                {formatDateTime(doc.date ?? doc.meta?.lastUpdated)} · {doc.type ? <CodeableConceptDisplay value={doc.type} /> : attachment?.contentType ?? 'unknown type'}
              </Text>
              {text && <Text style={{ whiteSpace: 'pre-wrap' }}>{text}</Text>}
              {attachment?.data && !text && <DownloadLink attachment={attachment} />}
              {/^https?:\/\//.test(attachment?.url ?? '') && (
                <Anchor href={attachment?.url} target="_blank" rel="noreferrer">
                  Open {attachment?.title ?? 'the document'}
                </Anchor>
              )}
            </Stack>
          </Card>
        );
      })}
      <form onSubmit={upload} aria-label="Upload a document">
        <Group align="end">
          <FileInput label="File" placeholder="Choose a file" value={file} onChange={(f) => { setFile(f); setTooBig(false); }} clearable />
          <TextInput label="Title" placeholder="e.g. Chest X-ray report" value={title} onChange={(e) => setTitle(e.currentTarget.value)} />
          <Button type="submit" loading={write.busy} disabled={!file}>Upload</Button>
        </Group>
      </form>
      {tooBig && <RefusalAlert title="The file was not uploaded" message={`Files up to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB can be uploaded.`} />}
      <RefusalAlert title="The document was not uploaded" message={write.error} />
    </Section>
  );
}
