/**
 * The charting app (apps/charting) in headless Chromium against the real server, writing: a GP
 * opens a booked patient's chart from their appointments and adds a note, a diagnosis and a
 * prescription (stored with the GP as author, for that visit, audited), then resolves their own
 * diagnosis and stops their own prescription (never offered for another provider's), and uploads
 * a file that downloads byte for byte; the server's refusal to change another provider's note,
 * or to write once the patient cancelled, is shown as it says it, and nothing changes. (Lists
 * and access: apps-charting-lists.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, DocumentReference, Encounter, MedicationRequest } from '@medplum/fhirtypes';
import type { Browser } from 'playwright-core';
import type { TestServer } from './server.ts';
import { createResource, createUser } from './auth-helpers.ts';
import { book, cancel, writeAs } from './care-helpers.ts';
import { hasChromium, openAppSignedIn, startAppTest, stopAppTest } from './apps-browser.ts';
import { T, auditedActions, bookWith, gpWithPatient, noteBy, openChartFromAppointments, outcomeText, patientNamed, storedFor, textOf } from './apps-charting-fixtures.ts';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!hasChromium) return;
  ({ server, browser } = await startAppTest(['charting']));
});
afterAll(() => stopAppTest(server, browser));

describe.skipIf(!hasChromium)('charting app: writing to a chart', () => {
  it('opens a booked patient from the appointments, adds a note, a diagnosis and a prescription in the GP\'s name', async () => {
    const { gp, patient, visit, page, errors } = await gpWithPatient(server, browser, 'Tony Rivers');
    await openChartFromAppointments(page, 'Tony Rivers');
    await expect(page.getByRole('note').filter({ hasText: 'Charting the visit of' }).waitFor(T)).resolves.toBeUndefined();

    const notes = page.getByRole('region', { name: 'Visit notes' });
    await notes.getByText('No notes yet.').waitFor(T);
    await notes.getByLabel('New visit note').fill('Cough for two weeks, chest clear. Review in 7 days.');
    await notes.getByRole('button', { name: 'Add note' }).click();
    const added = notes.getByRole('article', { name: /^Note by Dr Tony Rivers GP on / });
    await expect(added.textContent(T)).resolves.toContain('Cough for two weeks, chest clear. Review in 7 days.');

    const diagnoses = page.getByRole('region', { name: 'Diagnoses' });
    await diagnoses.getByLabel('Diagnosis').fill('Acute bronchitis');
    await diagnoses.getByRole('button', { name: 'Record diagnosis' }).click();
    await diagnoses.getByRole('cell', { name: 'Acute bronchitis', exact: true }).waitFor(T);

    const medications = page.getByRole('region', { name: 'Medications' });
    await medications.getByLabel('Medication').fill('Amoxicillin 500 mg');
    await medications.getByLabel('Dosage instructions').fill('One capsule three times a day for 5 days');
    await medications.getByRole('button', { name: 'Prescribe' }).click();
    await medications.getByRole('cell', { name: 'Amoxicillin 500 mg', exact: true }).waitFor(T);

    // The server holds them about this patient, written by the GP.
    const [note, ...moreNotes] = await storedFor<DocumentReference>(server, 'DocumentReference', patient.fhirUser);
    expect(moreNotes).toEqual([]);
    expect(note.author).toBe(gp.fhirUser);
    expect(textOf(note.resource)).toBe('Cough for two weeks, chest clear. Review in 7 days.');
    expect(note.resource.author).toEqual([{ reference: gp.fhirUser }]);
    const [condition, ...moreConditions] = await storedFor<Condition>(server, 'Condition', patient.fhirUser);
    expect(moreConditions).toEqual([]);
    expect(condition).toMatchObject({ author: gp.fhirUser, resource: { code: { text: 'Acute bronchitis' }, recorder: { reference: gp.fhirUser } } });
    const [prescription] = await storedFor<MedicationRequest>(server, 'MedicationRequest', patient.fhirUser);
    expect(prescription).toMatchObject({
      author: gp.fhirUser,
      resource: { medicationCodeableConcept: { text: 'Amoxicillin 500 mg' }, requester: { reference: gp.fhirUser }, subject: { reference: patient.fhirUser } },
    });
    // All three belong to the visit: one Encounter for the booked appointment, started by the GP.
    const [encounter, ...moreEncounters] = await storedFor<Encounter>(server, 'Encounter', patient.fhirUser);
    expect(moreEncounters).toEqual([]);
    expect(encounter).toMatchObject({ author: gp.fhirUser, resource: { appointment: [{ reference: `Appointment/${visit.id}` }] } });
    const ofVisit = { reference: `Encounter/${encounter.resource.id}` };
    expect(note.resource.context?.encounter).toEqual([ofVisit]);
    expect(condition.resource.encounter).toEqual(ofVisit);
    expect(prescription.resource.encounter).toEqual(ofVisit);
    // Each access was audited in the GP's name: the chart read, and the note's creation.
    expect(await auditedActions(server, gp.fhirUser, patient.fhirUser, ['R'])).toContain('R');
    expect(await auditedActions(server, gp.fhirUser, `DocumentReference/${note.resource.id}`, ['C'])).toContain('C');
    expect(errors).toEqual([]);
  });

  it('edits the GP\'s own note, but shows the server\'s 403 for another provider\'s note and changes nothing', async () => {
    const gp = await createUser(server, 'gp', { name: 'Dr Jack Turner' });
    const radiographer = await createUser(server, 'radiographer', { name: 'Rita Scanlon' });
    const patient = await patientNamed(server, 'Tony Okafor');
    await bookWith(server, patient, gp);
    await bookWith(server, patient, radiographer);
    const own = await noteBy(server, gp, patient, 'First visit: headaches.');
    const theirs = await noteBy(server, radiographer, patient, 'Scan showed a 1 cm lesion; biopsy recommended.');
    // A report the patient uploaded is a document, not a visit note.
    await writeAs(server, patient.fhirUser, {
      resourceType: 'DocumentReference', status: 'current', description: 'Blood test results', subject: { reference: patient.fhirUser },
      content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Haemoglobin 135 g/L').toString('base64') } }],
    } as DocumentReference);
    const { page, errors } = await openAppSignedIn(browser, server, 'charting', gp);
    await openChartFromAppointments(page, 'Tony Okafor');
    const notes = page.getByRole('region', { name: 'Visit notes' });
    const report = page.getByRole('region', { name: 'Documents' }).getByRole('article', { name: 'Document Blood test results' });
    await expect(report.textContent(T)).resolves.toContain('Haemoglobin 135 g/L');
    await expect.poll(() => notes.getByRole('article').count(), T).toBe(2);

    // The GP's own note changes.
    // Cards are found by their author (their text turns into the editor's value while editing).
    const ownCard = notes.getByRole('article', { name: /^Note by Dr Jack Turner on / });
    await expect(ownCard.textContent(T)).resolves.toContain('First visit: headaches.');
    await ownCard.getByRole('button', { name: 'Edit note' }).click(T);
    await ownCard.getByLabel('Note text').fill('First visit: headaches, worse in the morning.');
    await ownCard.getByRole('button', { name: 'Save changes' }).click();
    await ownCard.getByText('First visit: headaches, worse in the morning.').waitFor(T);

    // The radiographer's note is refused by the server, in its words.
    const theirCard = notes.getByRole('article', { name: /^Note by Rita Scanlon on / });
    await expect(theirCard.textContent()).resolves.toContain('Scan showed a 1 cm lesion');
    await theirCard.getByRole('button', { name: 'Edit note' }).click(T);
    await theirCard.getByLabel('Note text').fill('Nothing to see here.');
    const answer = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url() === `${server.fhir}/DocumentReference/${theirs.id}`);
    await theirCard.getByRole('button', { name: 'Save changes' }).click();
    const response = await answer;
    expect(response.status()).toBe(403);
    const said = outcomeText(await response.json());
    expect(said).not.toBe('');
    await expect(theirCard.getByRole('alert').filter({ hasText: 'The note was not changed' }).textContent(T)).resolves.toContain(said);

    const stored = new Map((await storedFor<DocumentReference>(server, 'DocumentReference', patient.fhirUser)).map((n) => [n.resource.id, n]));
    expect(stored.get(theirs.id)).toMatchObject({ author: radiographer.fhirUser, versions: 1 });
    expect(textOf(stored.get(theirs.id)!.resource)).toBe('Scan showed a 1 cm lesion; biopsy recommended.');
    expect(stored.get(own.id)).toMatchObject({ author: gp.fhirUser, versions: 2 });
    expect(textOf(stored.get(own.id)!.resource)).toBe('First visit: headaches, worse in the morning.');
    expect(errors).toEqual([`403 PUT ${server.fhir}/DocumentReference/${theirs.id}`]);
  });

  it('resolves the GP\'s own diagnosis and stops their own prescription, offering neither for another provider\'s', async () => {
    const { gp, patient, page, errors } = await gpWithPatient(server, browser, 'Ivy Lowe');
    const other = `Practitioner/${(await createResource(server, { resourceType: 'Practitioner', name: [{ text: 'Dr Other' }] })).id}`;
    await writeAs(server, other, { resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { text: 'Hay fever' }, subject: { reference: patient.fhirUser }, recorder: { reference: other } } as Condition);
    await writeAs(server, other, { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Loratadine 10 mg' },
      subject: { reference: patient.fhirUser }, requester: { reference: other } } as MedicationRequest);
    await openChartFromAppointments(page, 'Ivy Lowe');

    const diagnoses = page.getByRole('region', { name: 'Diagnoses' });
    await diagnoses.getByRole('cell', { name: 'Hay fever', exact: true }).waitFor(T);
    await diagnoses.getByLabel('Diagnosis').fill('Otitis media');
    await diagnoses.getByRole('button', { name: 'Record diagnosis' }).click();
    await diagnoses.getByRole('button', { name: 'Resolve Otitis media' }).click();
    await diagnoses.getByRole('row', { name: /Otitis media\s+resolved/ }).waitFor(T);
    await expect(diagnoses.getByRole('button', { name: /^Resolve / }).count()).resolves.toBe(0); // not for Hay fever

    const medications = page.getByRole('region', { name: 'Medications' });
    await medications.getByRole('cell', { name: 'Loratadine 10 mg', exact: true }).waitFor(T);
    await medications.getByLabel('Medication').fill('Paracetamol 500 mg');
    await medications.getByRole('button', { name: 'Prescribe' }).click();
    await medications.getByRole('button', { name: 'Stop Paracetamol 500 mg' }).click();
    await medications.getByRole('row', { name: /Paracetamol 500 mg.*stopped/ }).waitFor(T);
    await expect(medications.getByRole('button', { name: /^Stop / }).count()).resolves.toBe(0); // not for Loratadine

    // Stored as a second version of each, by the GP; the other provider's entries unchanged.
    const conditions = await storedFor<Condition>(server, 'Condition', patient.fhirUser);
    const mine = conditions.find((c) => c.resource.code?.text === 'Otitis media');
    expect(mine?.resource.clinicalStatus?.coding?.[0]?.code).toBe('resolved');
    expect(Date.parse(mine?.resource.abatementDateTime as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(mine?.versions).toBe(2);
    const theirs = conditions.find((c) => c.resource.code?.text === 'Hay fever');
    expect([theirs?.resource.clinicalStatus?.coding?.[0]?.code, theirs?.versions]).toEqual(['active', 1]);
    const requests = await storedFor<MedicationRequest>(server, 'MedicationRequest', patient.fhirUser);
    expect(requests.map((r) => [r.resource.medicationCodeableConcept?.text, r.resource.status, r.author]).sort()).toEqual([
      ['Loratadine 10 mg', 'active', other],
      ['Paracetamol 500 mg', 'stopped', gp.fhirUser],
    ]);
    expect(errors).toEqual([]);
  });

  it('uploads a file to the chart as the GP and downloads the same bytes again', async () => {
    const { gp, patient, page, errors } = await gpWithPatient(server, browser, 'Uma Park');
    await openChartFromAppointments(page, 'Uma Park');
    const documents = page.getByRole('region', { name: 'Documents' });
    await documents.getByText('No documents.').waitFor(T);
    // Every byte value, so nothing is lost to a text encoding on the way.
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    await documents.locator('input[type="file"]').setInputFiles({ name: 'xray-report.pdf', mimeType: 'application/pdf', buffer: bytes });
    await documents.getByLabel('Title').fill('Chest X-ray report');
    await documents.getByRole('button', { name: 'Upload' }).click();
    const card = documents.getByRole('article', { name: 'Document Chest X-ray report' });
    const link = card.getByRole('link', { name: 'Download xray-report.pdf' });
    await link.waitFor(T);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('xray-report.pdf');
    const chunks: Buffer[] = [];
    for await (const chunk of (await download.createReadStream())) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);

    const [stored, ...more] = await storedFor<DocumentReference>(server, 'DocumentReference', patient.fhirUser);
    expect(more).toEqual([]);
    expect(stored.author).toBe(gp.fhirUser);
    expect(stored.resource).toMatchObject({ description: 'Chest X-ray report', author: [{ reference: gp.fhirUser }], content: [{ attachment: { contentType: 'application/pdf', title: 'xray-report.pdf', size: 3000 } }] });
    expect(Buffer.from(stored.resource.content[0].attachment.data as string, 'base64').equals(bytes)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows the server\'s refusal once the patient cancelled meanwhile, and records nothing more', async () => {
    const gp = await createUser(server, 'gp', { name: 'Dr Sam Ito' });
    const patient = await patientNamed(server, 'Nora Quinn');
    const visit = await book(server, patient.fhirUser, gp.fhirUser);
    // Reception checked her in: the visit's Encounter exists already, and the diagnosis joins it.
    const checkIn = await createResource(server, {
      resourceType: 'Encounter', status: 'arrived', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: patient.fhirUser }, appointment: [{ reference: `Appointment/${visit.id}` }],
    } as Encounter);
    const { page, errors } = await openAppSignedIn(browser, server, 'charting', gp);
    await openChartFromAppointments(page, 'Nora Quinn');

    const diagnoses = page.getByRole('region', { name: 'Diagnoses' });
    await diagnoses.getByLabel('Diagnosis').fill('Tension headache');
    await diagnoses.getByRole('button', { name: 'Record diagnosis' }).click();
    await diagnoses.getByRole('cell', { name: 'Tension headache', exact: true }).waitFor(T);

    // The only appointment is cancelled: the GP's access to the history ends now.
    await cancel(server, visit);
    await diagnoses.getByLabel('Diagnosis').fill('Migraine');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${server.fhir}/Condition`);
    await diagnoses.getByRole('button', { name: 'Record diagnosis' }).click();
    const response = await answer;
    expect([403, 404]).toContain(response.status());
    const said = outcomeText(await response.json());
    expect(said).not.toBe('');
    await expect(diagnoses.getByRole('alert').filter({ hasText: 'The diagnosis was not saved' }).textContent(T)).resolves.toContain(said);
    await expect(diagnoses.getByRole('cell', { name: 'Migraine', exact: true }).count()).resolves.toBe(0);
    const conditions = await storedFor<Condition>(server, 'Condition', patient.fhirUser);
    expect(conditions.map((c) => c.resource.code?.text)).toEqual(['Tension headache']);
    expect(conditions[0].resource.encounter).toEqual({ reference: `Encounter/${checkIn.id}` });
    expect((await storedFor(server, 'Encounter', patient.fhirUser)).length).toBe(1);
    expect(errors).toEqual([`${response.status()} POST ${server.fhir}/Condition`]);
  });
});
