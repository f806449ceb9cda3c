/**
 * Data and steps for the charting app's browser tests: a signed-in GP with a booked patient,
 * visit notes written in a given provider's name, and what the server stores (content, author,
 * audit trail), read from its database.
 */
import type { Appointment, DocumentReference, Resource } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { createUser, type TestUser } from './auth-helpers.ts';
import { book, writeAs } from './care-helpers.ts';
import { openAppSignedIn } from './apps-browser.ts';
import type { TestServer } from './server.ts';

/** How long the tests wait for the app. */
export const T = { timeout: 20_000 };

/** A GP with one booked patient, signed in to the charting app. */
export async function gpWithPatient(server: TestServer, browser: Browser, patientName: string): Promise<{ gp: TestUser; patient: TestUser; visit: Appointment; page: Page; errors: string[] }> {
  const gp = await createUser(server, 'gp', { name: `Dr ${patientName} GP` });
  const patient = await patientNamed(server, patientName);
  const visit = await bookWith(server, patient, gp);
  return { gp, patient, visit, ...(await openAppSignedIn(browser, server, 'charting', gp)) };
}

/** Opens the patient's chart from the GP's appointment list. */
export async function openChartFromAppointments(page: Page, patientName: string): Promise<void> {
  const appointment = page.getByRole('article', { name: new RegExp(`^Appointment on .* with ${patientName}$`) });
  await appointment.getByRole('link', { name: `Open chart of ${patientName}` }).click(T);
  await page.getByRole('heading', { name: `Chart of ${patientName}` }).waitFor(T);
}

/** A patient with a given name (unique per test) and an account. */
export function patientNamed(server: TestServer, name: string): Promise<TestUser> {
  return createUser(server, 'patient', { name });
}

/** Books the patient with the clinician (which gives the clinician access to the history). */
export function bookWith(server: TestServer, patient: TestUser, clinician: TestUser): Promise<Appointment & { id: string }> {
  return book(server, patient.fhirUser, clinician.fhirUser);
}

/** A visit note as the app writes them (LOINC 11506-3, inline text), stored in `author`'s name. */
export function noteBy(server: TestServer, author: TestUser, patient: TestUser, text: string): Promise<DocumentReference & { id: string }> {
  return writeAs(server, author.fhirUser, {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }], text: 'Visit note' },
    subject: { reference: patient.fhirUser },
    date: new Date().toISOString(),
    author: [{ reference: author.fhirUser }],
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(text).toString('base64') } }],
  } as DocumentReference);
}

export interface StoredEntry<T extends Resource> {
  resource: T;
  /** Who wrote the first version (the server's record of authorship). */
  author: string | null;
  versions: number;
}

/** Every current resource of `type` in a patient's compartment, with its recorded author. */
export async function storedFor<T extends Resource>(server: TestServer, type: string, patient: string): Promise<StoredEntry<T>[]> {
  const { rows } = await server.database.db.query<{ content: string; author: string | null; versions: string }>(
    `SELECT r.content,
            (SELECT h.author FROM resource_history h WHERE h.type = r.type AND h.id = r.id AND h.version = 1) AS author,
            (SELECT count(*) FROM resource_history h WHERE h.type = r.type AND h.id = r.id) AS versions
       FROM resource r WHERE r.type = $1 AND NOT r.deleted AND r.compartments @> ARRAY[$2]::text[]`,
    [type, patient],
  );
  return rows.map((r) => ({ resource: JSON.parse(r.content) as T, author: r.author, versions: Number(r.versions) }));
}

/** The text of a note's inline attachment. */
export function textOf(note: DocumentReference): string {
  return Buffer.from(note.content?.[0]?.attachment?.data ?? '', 'base64').toString('utf8');
}

/** The OperationOutcome's words, as the app shows them. */
export function outcomeText(body: { issue?: { details?: { text?: string }; diagnostics?: string }[] }): string {
  return (body.issue ?? []).map((i) => i.details?.text ?? i.diagnostics).filter(Boolean).join('; ');
}

/**
 * The actions (C, R, U...) of the AuditEvents that `who` caused on `entity`, waiting up to
 * `limitMs` for `wanted` to appear (reads are written in batches about once a second).
 */
export async function auditedActions(server: TestServer, who: string, entity: string, wanted: string[], limitMs = 4000): Promise<string[]> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const { rows } = await server.database.db.query<{ action: string }>(
      `SELECT DISTINCT content::jsonb->>'action' AS action FROM resource
        WHERE type = 'AuditEvent' AND NOT deleted
          AND content::jsonb->'agent' @> jsonb_build_array(jsonb_build_object('who', jsonb_build_object('reference', $1::text)))
          AND content::jsonb->'entity' @> jsonb_build_array(jsonb_build_object('what', jsonb_build_object('reference', $2::text)))`,
      [who, entity],
    );
    const actions = rows.map((r) => r.action).sort();
    if (wanted.every((a) => actions.includes(a)) || Date.now() > deadline) return actions;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
