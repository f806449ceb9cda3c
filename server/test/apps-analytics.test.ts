/**
 * The analytics app (apps/analytics) in headless Chromium against the real server: an admin
 * sees exactly the counts of the appointments, diagnoses, patients and invoices this test
 * created (diagnoses de-identified by the server); an HR user gets the server's refusal; a
 * patient is told the app is for managers and sees no numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import type { Appointment, Invoice, Resource } from '@medplum/fhirtypes';
import type { TestServer } from './server.ts';
import { createResource, createUser } from './auth-helpers.ts';
import { clinical } from './care-helpers.ts';
import { hasChromium, openAppSignedIn, startAppTest, stopAppTest } from './apps-browser.ts';

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const STATUSES = ['booked', 'fulfilled', 'cancelled', 'noshow'] as const;

/** "YYYY-MM" of the month `back` months before the current one. */
function monthBack(back: number): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getFullYear(), now.getMonth() - back, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}
const label = (month: string) => `${MONTH_NAMES[Number(month.slice(5)) - 1]} ${month.slice(0, 4)}`;

/** The data's plan: [months back, status, centre, provider, reason]. 13 months back is outside the window. */
const PLAN: [number, (typeof STATUSES)[number], 'north' | 'south', 'alice' | 'bob', string][] = [
  [0, 'booked', 'north', 'alice', 'Back pain'],
  [0, 'booked', 'south', 'bob', 'Flu'],
  [1, 'fulfilled', 'north', 'alice', 'Back pain'],
  [1, 'noshow', 'north', 'bob', 'Back pain'],
  [1, 'cancelled', 'south', 'alice', 'Flu'],
  [3, 'fulfilled', 'south', 'alice', 'Check-up'],
  [3, 'fulfilled', 'north', 'alice', 'Back pain'],
  [11, 'cancelled', 'north', 'bob', 'Check-up'],
  [13, 'fulfilled', 'north', 'alice', 'Back pain'],
];

let server: TestServer;
let browser: Browser;
let patientsCreated = 0;
beforeAll(async () => {
  if (!hasChromium) return;
  ({ server, browser } = await startAppTest(['analytics']));
  const north = await createResource(server, { resourceType: 'Location', name: 'Centre North' });
  const south = await createResource(server, { resourceType: 'Location', name: 'Centre South' });
  const alice = await createResource(server, { resourceType: 'Practitioner', name: [{ given: ['Alice'], family: 'Analytic', text: 'Alice Analytic' }] });
  const bob = await createResource(server, { resourceType: 'Practitioner', name: [{ given: ['Bob'], family: 'Builder', text: 'Bob Builder' }] });
  const patients: { id: string }[] = [];
  for (let i = 0; i < 3; i++) patients.push(await createResource(server, { resourceType: 'Patient', name: [{ given: [`P${i}`], family: 'Stats' }] }));
  patientsCreated = patients.length;
  const ref = { north, south, alice, bob };
  for (const [i, [back, status, centre, provider, reason]] of PLAN.entries()) {
    // Each on its own day and hour, so no booking rule sees two of them overlap.
    const start = `${monthBack(back)}-${String(2 + i).padStart(2, '0')}T0${i % 8}:00:00Z`;
    await createResource(server, {
      resourceType: 'Appointment', status, start, end: start.replace(':00:00Z', ':30:00Z'),
      reasonCode: [{ text: reason }],
      participant: [
        { actor: { reference: `Patient/${patients[i % 3].id}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${ref[provider].id}` }, status: 'accepted' },
        { actor: { reference: `Location/${ref[centre].id}` }, status: 'accepted' },
      ],
    } as Appointment);
  }
  // Diagnoses: asthma for all three patients (named in the counts), migraine for one (too rare to name).
  for (const p of patients.slice(0, 3)) {
    await createResource(server, { ...clinical('Condition', `Patient/${p.id}`, 'Asthma'), recordedDate: `${monthBack(1)}-10` } as Resource);
  }
  await createResource(server, { ...clinical('Condition', `Patient/${patients[0].id}`, 'Migraine'), recordedDate: `${monthBack(2)}-10` } as Resource);
  const invoice = (status: Invoice['status'], value: number): Invoice => ({
    resourceType: 'Invoice', status, date: `${monthBack(1)}-15`, subject: { reference: `Patient/${patients[0].id}` }, totalGross: { value, currency: 'AUD' },
  });
  for (const inv of [invoice('issued', 100), invoice('issued', 50), invoice('balanced', 200), invoice('cancelled', 999)]) await createResource(server, inv);
});
afterAll(() => stopAppTest(server, browser));

/** The texts of a table row's visible cells (the bar cells are aria-hidden). */
async function rowCells(table: Locator, name: string): Promise<string[]> {
  const row = table.getByRole('row', { name: new RegExp(`^${name}\\b`) });
  await row.waitFor({ timeout: 20_000 }); // panels load on their own
  return row.getByRole('cell').allTextContents();
}

/** Expected visits row for a month: [label, booked, fulfilled, cancelled, noshow, other, total]. */
function expectedVisits(back: number, centre?: 'north' | 'south'): string[] {
  const rows = PLAN.filter(([b, , c]) => b === back && (!centre || c === centre));
  const counts = STATUSES.map((s) => rows.filter(([, st]) => st === s).length);
  return [label(monthBack(back)), ...counts.map(String), '0', String(rows.length)];
}

async function visitsTable(page: Page): Promise<Locator> {
  const table = page.getByRole('table', { name: 'Visits per month' });
  await table.waitFor({ timeout: 20_000 });
  return table;
}

describe.skipIf(!hasChromium)('analytics app', () => {
  it('shows an admin the visits, centres, providers, reasons, new patients and money of the data', async () => {
    const admin = await createUser(server, 'admin');
    const { page, errors } = await openAppSignedIn(browser, server, 'analytics', admin);
    const visits = await visitsTable(page);
    for (let back = 0; back < 12; back++) expect(await rowCells(visits, label(monthBack(back)))).toEqual(expectedVisits(back));
    // The appointment 13 months back is outside the window: no row for it.
    expect(await visits.getByRole('row', { name: new RegExp(`^${label(monthBack(12))}\\b`) }).count()).toBe(0);

    const inWindow = PLAN.filter(([back]) => back < 12);
    const count = (pick: (p: (typeof PLAN)[number]) => boolean) => String(inWindow.filter(pick).length);
    const centres = page.getByRole('table', { name: 'Visits per centre' });
    expect(await rowCells(centres, 'Centre North')).toEqual(['Centre North', count((p) => p[2] === 'north')]);
    expect(await rowCells(centres, 'Centre South')).toEqual(['Centre South', count((p) => p[2] === 'south')]);
    const providers = page.getByRole('table', { name: 'Visits per provider' });
    await providers.getByText('Alice Analytic').waitFor();
    expect(await rowCells(providers, 'Alice Analytic')).toEqual(['Alice Analytic', count((p) => p[3] === 'alice')]);
    expect(await rowCells(providers, 'Bob Builder')).toEqual(['Bob Builder', count((p) => p[3] === 'bob')]);
    const reasons = page.getByRole('table', { name: 'Top visit reasons' });
    for (const reason of ['Back pain', 'Flu', 'Check-up']) expect(await rowCells(reasons, reason)).toEqual([reason, count((p) => p[4] === reason)]);
    // Diagnoses as the server counts them for managers: named only when several patients have them.
    const diagnoses = page.getByRole('table', { name: 'Diagnoses', exact: true });
    expect(await rowCells(diagnoses, 'Asthma')).toEqual(['Asthma', '3']);
    expect(await page.getByText('Migraine').count()).toBe(0);
    await page.getByText('1 record of 1 diagnosis seen in fewer than 3 patients is counted here but not named').waitFor();
    const perMonth = page.getByRole('table', { name: 'Named diagnoses per month' });
    expect(await rowCells(perMonth, label(monthBack(1)))).toEqual([label(monthBack(1)), '3']);
    expect(await rowCells(perMonth, label(monthBack(2)))).toEqual([label(monthBack(2)), '0']);

    const newPatients = page.getByRole('table', { name: 'New patients per month' });
    expect(await rowCells(newPatients, label(monthBack(0)))).toEqual([label(monthBack(0)), String(patientsCreated)]);
    expect(await rowCells(newPatients, label(monthBack(1)))).toEqual([label(monthBack(1)), '0']);

    await page.getByRole('region', { name: 'Money' }).getByText('Unpaid dues').waitFor({ timeout: 20_000 });
    const money = await page.getByRole('region', { name: 'Money' }).innerText();
    expect(money).toMatch(/Invoices\s*3\b/);
    expect(money).toMatch(/Invoiced\s*\$350\.00/);
    expect(money).toMatch(/Paid\s*\$200\.00/);
    expect(money).toMatch(/Unpaid dues\s*\$150\.00/);

    // Filtering by centre narrows every appointment panel to that centre's visits.
    await page.getByRole('combobox', { name: 'Centre' }).selectOption({ label: 'Centre South' });
    for (const back of [0, 1, 3]) await expect.poll(() => rowCells(visits, label(monthBack(back))), { timeout: 20_000 }).toEqual(expectedVisits(back, 'south'));
    expect(await centres.getByRole('row', { name: /Centre North/ }).count()).toBe(0);
    // Diagnoses are narrowed by the server: none of these was recorded at a visit to Centre South.
    await page.getByText('No diagnosis recorded often enough to name in the last 12 months.').waitFor({ timeout: 20_000 });
    expect(errors).toEqual([]);
  });

  it('shows an HR user the server refusal instead of numbers', async () => {
    const hr = await createUser(server, 'hr');
    const { page, errors } = await openAppSignedIn(browser, server, 'analytics', hr);
    const visits = page.getByRole('region', { name: 'Visits per month' });
    const refusal = visits.getByRole('alert');
    await refusal.waitFor({ timeout: 20_000 });
    expect(await refusal.innerText()).toMatch(/do not allow search on Appointment/);
    expect(await page.getByRole('table').count()).toBe(0);
    // The refusals are the server's 403s, deliberately provoked; nothing else failed.
    const refused = errors.filter((e) => /^403 GET .*\/fhir\/(Appointment|Invoice|Patient\/_history|Condition\/\$diagnosis-counts)\b/.test(e));
    expect(refused.length).toBeGreaterThan(0);
    expect(errors.filter((e) => !refused.includes(e))).toEqual([]);
  });

  it('tells a patient the app is for managers and shows no clinic numbers', async () => {
    const patient = await createUser(server, 'patient');
    const { page, errors } = await openAppSignedIn(browser, server, 'analytics', patient);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.innerText()).toMatch(/Analytics are for clinic managers[\s\S]*patient/);
    expect(await page.getByRole('table').count()).toBe(0);
    // The app asked the server for no patient data at all (every request since the page loaded).
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    expect(fetched.filter((url) => /\/fhir\/(Appointment|Patient|Invoice|Condition)/.test(url))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
