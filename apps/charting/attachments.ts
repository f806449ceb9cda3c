/**
 * Documents uploaded to a chart (reports, letters, scans): a DocumentReference holding the file
 * inline (`attachment.data`, base64), so the file is the patient's record under the same care
 * rules as the rest of the chart. (A separate Binary would need access rules of its own, through
 * its securityContext, which the server does not enforce yet.)
 */
import type { Attachment, DocumentReference, Encounter, Reference } from '@medplum/fhirtypes';

/** Largest file accepted, before base64 (the request grows by a third). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const CHUNK = 0x8000; // String.fromCharCode takes a bounded number of arguments
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** A new uploaded document about `patientId`, by `author`, for a visit's Encounter if any. */
export async function uploadedDocument(patientId: string, author: string, file: File, title: string, encounter?: Reference<Encounter>): Promise<DocumentReference> {
  const now = new Date().toISOString();
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { text: 'Uploaded document' },
    description: title.trim() || file.name,
    subject: { reference: `Patient/${patientId}` },
    date: now,
    author: [{ reference: author }],
    content: [{
      attachment: {
        contentType: file.type || 'application/octet-stream',
        data: bytesToBase64(new Uint8Array(await file.arrayBuffer())),
        title: file.name,
        size: file.size,
        creation: now,
      },
    }],
    ...(encounter ? { context: { encounter: [encounter] } } : {}),
  };
}

/** An object URL for an inline attachment's bytes (for a download link), or undefined. */
export function attachmentUrl(attachment: Attachment | undefined): string | undefined {
  if (!attachment?.data) return undefined;
  const bytes = Uint8Array.from(atob(attachment.data), (ch) => ch.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: attachment.contentType ?? 'application/octet-stream' }));
}
