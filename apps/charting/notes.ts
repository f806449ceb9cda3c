/**
 * Visit notes are DocumentReferences typed LOINC 11506-3 "Progress note", with the text inline
 * (text/plain, base64). The server records who wrote each one and lets only that author change
 * it (CONTRACT "Clinical rules"); other DocumentReferences are the patient's documents.
 */
import type { DocumentReference, Encounter, Reference } from '@medplum/fhirtypes';

export const NOTE_TYPE = { system: 'http://loinc.org', code: '11506-3', display: 'Progress note' };

export function isVisitNote(doc: DocumentReference): boolean {
  return !!doc.type?.coding?.some((c) => c.system === NOTE_TYPE.system && c.code === NOTE_TYPE.code);
}

/** UTF-8 safe base64 (btoa alone only takes Latin-1). */
function toBase64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(data: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0)));
}

/** The note's text, or undefined when its content is not inline text. */
export function noteText(doc: DocumentReference): string | undefined {
  const attachment = doc.content?.[0]?.attachment;
  if (!attachment?.data || !attachment.contentType?.startsWith('text/')) return undefined;
  return fromBase64(attachment.data);
}

function textContent(text: string): DocumentReference['content'] {
  return [{ attachment: { contentType: 'text/plain; charset=utf-8', data: toBase64(text) } }];
}

/** A new visit note about `patientId`, written by `author` (the signed-in Practitioner), of a visit's Encounter if any. */
export function newVisitNote(patientId: string, author: string, text: string, encounter?: Reference<Encounter>): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [NOTE_TYPE], text: 'Visit note' },
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', code: 'clinical-note' }] }],
    subject: { reference: `Patient/${patientId}` },
    date: new Date().toISOString(),
    author: [{ reference: author }],
    content: textContent(text),
    ...(encounter ? { context: { encounter: [encounter] } } : {}),
  };
}

/** The same note with new text (everything else kept, so the server sees an edit, not a new note). */
export function editedNote(note: DocumentReference, text: string): DocumentReference {
  return { ...note, content: textContent(text) };
}
