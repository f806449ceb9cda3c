/**
 * The charting app (apps/charting) in headless Chromium against the real server, finding
 * patients: the GP's appointments (booked with them or their PractitionerRole, by day) open the
 * patient's chart; a patient who never booked with the GP is left out of the search and their
 * chart, opened by address, shows the server's refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestServer } from './server.ts';
import { createResource, createUser } from './auth-helpers.ts';
import { book } from './care-helpers.ts';
import { hasChromium, openAppSignedIn, startAppTest, stopAppTest } from './apps-browser.ts';
import { T, bookWith, gpWithPatient, outcomeText, patientNamed } from './apps-charting-fixtures.ts';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!hasChromium) return;
  ({ server, browser } = await startAppTest(['charting']));
});
afterAll(() => stopAppTest(server, browser));

describe.skipIf(!hasChromium)('charting app: finding patients', () => {
  it('leaves a patient who never booked with the GP out of the search and refuses their chart by address', async () => {
    const { patient, page, errors } = await gpWithPatient(server, browser, 'Mia Castellano');
    // Another provider's patient: their record exists, but not for this GP.
    const stranger = await patientNamed(server, 'Mia Stranger');
    await bookWith(server, stranger, await createUser(server, 'specialist'));

    const search = page.getByRole('region', { name: 'Find a patient' });
    await search.getByLabel('Patient name').fill('Mia');
    await search.getByRole('button', { name: 'Search' }).click();
    await search.getByRole('article', { name: 'Patient Mia Castellano' }).waitFor(T);
    await expect(search.getByRole('article').count()).resolves.toBe(1);

    await search.getByLabel('Patient name').fill('Stranger');
    await search.getByRole('button', { name: 'Search' }).click();
    await search.getByText('No patients of yours match this name.').waitFor(T);
    await expect(search.getByRole('article').count()).resolves.toBe(0);

    const strangerId = stranger.fhirUser.split('/')[1];
    const answer = page.waitForResponse((r) => r.url() === `${server.fhir}/Patient/${strangerId}`);
    await page.goto(`${server.url}/apps/charting/#/patient/${strangerId}`);
    const response = await answer;
    expect([403, 404]).toContain(response.status());
    const said = outcomeText(await response.json());
    expect(said).not.toBe('');
    await expect(page.getByRole('alert').filter({ hasText: 'This chart cannot be opened' }).textContent(T)).resolves.toContain(said);
    await expect(page.getByRole('heading', { name: /^Chart of / }).count()).resolves.toBe(0);
    expect(patient.fhirUser).not.toBe(stranger.fhirUser);
    expect(errors).toEqual([`${response.status()} GET ${server.fhir}/Patient/${strangerId}`]);
  });

  it('lists the appointments booked with the GP\'s PractitionerRole, earliest first, from the chosen day on', async () => {
    const gp = await createUser(server, 'gp', { name: 'Dr Lena Park' });
    const role = await createResource(server, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: gp.fhirUser } });
    const early = await patientNamed(server, 'Ada Early');
    const late = await patientNamed(server, 'Ben Later');
    // book() puts each appointment a day after the previous one: Ben's comes first, Ada's after it.
    const benVisit = await book(server, late.fhirUser, `PractitionerRole/${role.id}`);
    const adaVisit = await book(server, early.fhirUser, `PractitionerRole/${role.id}`);
    const { page, errors } = await openAppSignedIn(browser, server, 'charting', gp);

    const list = page.getByRole('region', { name: 'My appointments' });
    const cards = list.getByRole('article', { name: /^Appointment on / });
    await cards.nth(1).waitFor(T);
    const names = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/with Ben Later$/);
    expect(names[1]).toMatch(/with Ada Early$/);

    // From the day of Ada's visit on, only Ada's remains (the server filters by date).
    const adaDay = (adaVisit.start as string).slice(0, 10);
    expect(adaDay > (benVisit.start as string).slice(0, 10)).toBe(true);
    await list.getByLabel('From').fill(adaDay);
    await list.getByRole('article', { name: /with Ben Later$/ }).waitFor({ state: 'detached', ...T });
    await expect(cards.count()).resolves.toBe(1);

    // Only Ben's day: Ada's visit (the next day) drops out.
    await list.getByLabel('From').fill((benVisit.start as string).slice(0, 10));
    await list.getByLabel('Only this day').check();
    await list.getByRole('article', { name: /with Ada Early$/ }).waitFor({ state: 'detached', ...T });
    await list.getByRole('article', { name: /with Ben Later$/ }).waitFor(T);
    await expect(cards.count()).resolves.toBe(1);

    await list.getByLabel('Only this day').uncheck();
    await list.getByRole('link', { name: 'Open chart of Ada Early' }).click(T);
    await page.getByRole('heading', { name: 'Chart of Ada Early' }).waitFor(T);
    expect(errors).toEqual([]);
  });
});
