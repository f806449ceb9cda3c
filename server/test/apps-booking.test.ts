/**
 * The booking app (apps/booking) in headless Chromium against the real server: a patient signs
 * in through the SMART login, finds a provider, books a free slot, sees and cancels it; refusals
 * (slot taken meanwhile, specialist without referral) show the server's own message; after a
 * visit the patient rates the provider, and the directory shows the average.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Slot } from '@medplum/fhirtypes';
import type { Browser, Locator, Page } from 'playwright-core';
import { RATING_CODE_SYSTEM, RATING_PROFILE, RATING_SCORE_URL } from '../src/scheduling/ratings.ts';
import type { TestServer } from './server.ts';
import { createUser, type TestUser } from './auth-helpers.ts';
import { clientFor } from './care-helpers.ts';
import { appointmentFor } from './sched-fixtures.ts';
import { hasChromium, openAppSignedIn, startAppTest, stopAppTest } from './apps-browser.ts';
import { appointmentsOf, buildCentre, freeSlotAfter, localDayAndTime, pastVisit, stored, type Centre } from './apps-booking-fixtures.ts';

let server: TestServer;
let browser: Browser;
let centre: Centre;
beforeAll(async () => {
  if (!hasChromium) return;
  ({ server, browser } = await startAppTest(['booking']));
  centre = await buildCentre(server);
});
afterAll(() => stopAppTest(server, browser));

const T = { timeout: 20_000 };

/** Searches the directory as a patient would and opens the provider's free times. */
async function openProvider(page: Page, search: { profession?: string; specialty?: string; centre?: string }, name: string): Promise<void> {
  if (search.profession) await page.getByLabel('Profession').selectOption({ label: search.profession });
  if (search.specialty) await page.getByLabel('Specialty').fill(search.specialty);
  if (search.centre) await page.getByLabel('Centre or suburb').fill(search.centre);
  await page.getByRole('button', { name: 'Search' }).click();
  const card = page.getByRole('article', { name });
  await card.waitFor(T);
  await expect(card.textContent()).resolves.toContain(`${centre.centreName}, ${centre.suburb}`);
  await card.getByRole('button', { name: `See free times of ${name} at ${centre.centreName}` }).click();
}

/** Picks the slot's day and the slot itself in the app. */
async function chooseSlot(page: Page, slot: Slot): Promise<string> {
  const { day, time } = localDayAndTime(slot.start);
  await page.getByLabel('Day').fill(day);
  await page.getByRole('group', { name: 'Free times' }).getByRole('button', { name: time, exact: true }).click(T);
  return time;
}

/** Clicks the n-th star of a rating (the star is the label of a radio input kept off screen). */
async function pickStars(form: Locator, n: number): Promise<void> {
  const id = await form.getByLabel(`${n} of 5 stars`).getAttribute('id');
  await form.locator(`label[for="${id}"]`).click();
}

async function signIn(): Promise<{ user: TestUser; page: Page; errors: string[] }> {
  const user = await createUser(server, 'patient');
  return { user, ...(await openAppSignedIn(browser, server, 'booking', user)) };
}

describe.skipIf(!hasChromium)('booking app', () => {
  it('signs a patient in with SMART (PKCE) and shows them as signed in, by name', async () => {
    const user = await createUser(server, 'patient', { name: 'Ruby Sample' });
    const { page, errors } = await openAppSignedIn(browser, server, 'booking', user);
    await expect(page.getByText('Signed in as Ruby Sample').waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('finds the GP by suburb, books a free slot with a reason, and lists it under My appointments', async () => {
    const { user, page, errors } = await signIn();
    const slot = await freeSlotAfter(server, centre.gpRole, 2);
    await openProvider(page, { profession: 'GP', centre: 'bondi' }, centre.gpName);
    const time = await chooseSlot(page, slot);
    await page.getByLabel('Reason for the visit').fill('Persistent cough for two weeks');
    await page.getByRole('button', { name: `Book ${time}` }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Appointment booked' }).textContent(T)).resolves.toContain(`You are booked with ${centre.gpName}`);

    // The server holds it as CONTRACT "Booking" describes, and the slot is taken.
    const [appointment, ...others] = await appointmentsOf(server, user.fhirUser);
    expect(others).toEqual([]);
    expect(appointment).toMatchObject({ status: 'booked', slot: [{ reference: `Slot/${slot.id}` }], description: 'Persistent cough for two weeks' });
    expect(Date.parse(appointment.start as string)).toBe(Date.parse(slot.start));
    expect(appointment.participant.map((p) => p.actor?.reference)).toEqual(expect.arrayContaining([user.fhirUser, `PractitionerRole/${centre.gpRole}`]));
    expect((await stored<Slot>(server, 'Slot', slot.id as string)).status).toBe('busy');

    await page.getByRole('tab', { name: 'My appointments' }).click();
    const card = page.getByRole('article', { name: /^Appointment on / });
    await card.waitFor(T);
    const text = await card.textContent();
    for (const shown of [centre.gpName, centre.centreName, 'Booked', 'Persistent cough for two weeks', time]) expect(text).toContain(shown);
    expect(errors).toEqual([]);
  });

  it('never lists (or books) an earlier day\'s times when that day\'s answer arrives after the day changed', async () => {
    const { user, page, errors } = await signIn();
    const slot = await freeSlotAfter(server, centre.gpRole, 6);
    await openProvider(page, { profession: 'GP', centre: 'bondi' }, centre.gpName);
    await page.getByRole('group', { name: 'Free times' }).or(page.getByText('No free times on this day.')).first().waitFor(T);
    // The next slot search (the day before the slot's: the same clock times) answers late.
    let delayed: Promise<void> | undefined;
    await page.route('**/fhir/Slot?**', async (route) => {
      if (delayed) return route.continue();
      delayed = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() => route.continue());
      await delayed;
    });
    const dayBefore = localDayAndTime(new Date(Date.parse(slot.start) - 86_400_000).toISOString()).day;
    await page.getByLabel('Day').fill(dayBefore);
    await expect.poll(() => delayed !== undefined).toBe(true);
    const { day, time } = localDayAndTime(slot.start);
    await page.getByLabel('Day').fill(day);
    await page.getByRole('group', { name: 'Free times' }).getByRole('button', { name: time, exact: true }).waitFor(T);
    await delayed;
    await page.waitForTimeout(300); // let the late answer reach the page
    await page.getByRole('group', { name: 'Free times' }).getByRole('button', { name: time, exact: true }).click(T);
    await page.getByRole('button', { name: `Book ${time}` }).click();
    await page.getByRole('status').filter({ hasText: 'Appointment booked' }).waitFor(T);
    const [appointment] = await appointmentsOf(server, user.fhirUser);
    expect(appointment.slot?.[0]?.reference).toBe(`Slot/${slot.id}`);
    expect(errors).toEqual([]);
  });

  it('shows the server\'s conflict message when another patient took the slot meanwhile, and books nothing', async () => {
    const { user, page, errors } = await signIn();
    const slot = await freeSlotAfter(server, centre.gpRole, 3);
    await openProvider(page, { centre: 'Bondi Junction Medical' }, centre.gpName);
    const time = await chooseSlot(page, slot);

    // Another patient books the same slot through the API first.
    const rival = await clientFor(server, 'patient');
    const taken = await rival.post('Appointment', appointmentFor(slot, rival.user.fhirUser.split('/')[1]));
    expect(taken.status).toBe(201);

    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/fhir/Appointment'));
    await page.getByRole('button', { name: `Book ${time}` }).click();
    const response = await answer;
    expect(response.status()).toBe(409);
    const said = ((await response.json()).issue as { details?: { text?: string }; diagnostics?: string }[]).map((i) => i.details?.text ?? i.diagnostics).join('; ');
    expect(said).not.toBe('');
    const alert = page.getByRole('alert').filter({ hasText: 'The booking was refused' });
    await expect(alert.textContent(T)).resolves.toContain(said);
    await expect(page.getByRole('status').count()).resolves.toBe(0);

    expect(await appointmentsOf(server, user.fhirUser)).toEqual([]);
    // The taken slot is no longer offered.
    await page.getByRole('group', { name: 'Free times' }).waitFor(T);
    await expect(page.getByRole('group', { name: 'Free times' }).getByRole('button', { name: time, exact: true }).count()).resolves.toBe(0);
    expect(errors).toEqual([`409 POST ${server.fhir}/Appointment`]);
  });

  it('books a video visit, shows its link, and cancels it: the server marks it cancelled and frees the slot', async () => {
    const { user, page, errors } = await signIn();
    const slot = await freeSlotAfter(server, centre.gpRole, 4);
    await openProvider(page, { centre: 'Bondi' }, centre.gpName);
    const time = await chooseSlot(page, slot);
    await page.getByLabel('Reason for the visit').fill('Repeat prescription');
    await page.getByLabel('Video consultation').check();
    await page.getByRole('button', { name: `Book ${time}` }).click();
    await page.getByRole('status').filter({ hasText: 'Appointment booked' }).waitFor(T);
    const [booked] = await appointmentsOf(server, user.fhirUser);

    await page.getByRole('tab', { name: 'My appointments' }).click();
    const card = page.getByRole('article', { name: /^Appointment on / });
    const link = card.getByRole('link', { name: 'Join the video call' });
    await link.waitFor(T);
    expect(await link.getAttribute('href')).toMatch(/^https:\/\/meet\.jit\.si\/clinic-/);
    expect(JSON.stringify(booked.extension)).toContain((await link.getAttribute('href')) as string);

    await card.getByRole('button', { name: 'Cancel appointment' }).click();
    await card.getByRole('button', { name: 'Yes, cancel it' }).click();
    await card.getByText('Cancelled', { exact: true }).waitFor(T);
    await expect(card.getByRole('button', { name: 'Cancel appointment' }).count()).resolves.toBe(0);
    expect((await stored<Appointment>(server, 'Appointment', booked.id as string)).status).toBe('cancelled');
    expect((await stored<Slot>(server, 'Slot', slot.id as string)).status).toBe('free');
    expect(errors).toEqual([]);
  });

  it('offers the provider\'s next free time when the chosen day has none', async () => {
    const { page, errors } = await signIn();
    await openProvider(page, { centre: 'Bondi' }, centre.gpName);
    const beyondHorizon = localDayAndTime(new Date(Date.now() + 365 * 86_400_000).toISOString()).day;
    await page.getByLabel('Day').fill(beyondHorizon);
    await page.getByText('No free times on this day.').waitFor(T);
    const first = await freeSlotAfter(server, centre.gpRole, 0);
    await page.getByRole('button', { name: /^Next free time: / }).click(T);
    await expect(page.getByLabel('Day').inputValue()).resolves.toBe(localDayAndTime(first.start).day);
    await page.getByRole('group', { name: 'Free times' }).getByRole('button', { name: localDayAndTime(first.start).time, exact: true }).waitFor(T);
    expect(errors).toEqual([]);
  });

  it('rates the provider of a past visit, changes the rating, and the directory shows the new average', async () => {
    const { user, page, errors } = await signIn();
    const visit = await pastVisit(server, user.fhirUser, centre.specialistRole);
    await page.getByRole('tab', { name: 'My appointments' }).click();
    const card = page.getByRole('article', { name: /^Appointment on / });
    await card.getByText('Attended', { exact: true }).waitFor(T);
    await card.getByRole('button', { name: `Rate ${centre.specialistName}` }).click();
    const form = card.getByRole('form', { name: `Rate ${centre.specialistName}` });
    await pickStars(form, 4);
    await form.getByLabel('Comment (optional)').fill('Listened carefully.');
    await form.getByRole('button', { name: 'Save rating' }).click();
    await card.getByRole('status').filter({ hasText: `your rating of ${centre.specialistName} was saved` }).waitFor(T);
    await card.getByText('Your rating: 4 of 5').waitFor(T);

    // Stored as the rating profile says, by this patient, of the visit's Practitioner.
    const practitioner = visit.participant.map((p) => p.actor?.reference).find((r) => r?.startsWith('Practitioner/')) as string;
    const { rows } = await server.database.db.query<{ content: string }>(
      `SELECT content FROM resource WHERE type = 'Basic' AND NOT deleted AND content LIKE '%' || $1 || '%'`, [user.fhirUser]);
    expect(rows.map((r) => JSON.parse(r.content))).toEqual([expect.objectContaining({
      subject: { reference: practitioner }, author: { reference: user.fhirUser },
      extension: expect.arrayContaining([expect.objectContaining({ valueInteger: 4 }), expect.objectContaining({ valueString: 'Listened carefully.' })]),
    })]);

    // A second rating replaces the first in the average (only the latest counts).
    await card.getByRole('button', { name: 'Change your rating' }).click();
    await pickStars(form, 2);
    await form.getByRole('button', { name: 'Save rating' }).click();
    await card.getByText('Your rating: 2 of 5').waitFor(T);

    await page.getByRole('tab', { name: 'Book a visit' }).click();
    await page.getByLabel('Profession').selectOption({ label: 'Specialist' });
    await page.getByRole('button', { name: 'Search' }).click();
    const provider = page.getByRole('article', { name: centre.specialistName });
    await provider.waitFor(T);
    await provider.getByText('Provider: 2.0 ★ (1 rating)').waitFor(T);
    expect(errors).toEqual([]);
  });

  it('offers no rating for a visit still to come, and the server refuses a rating from a patient who never saw the provider', async () => {
    const { user, page, errors } = await signIn();
    // A visit that is booked for next week has not taken place: no rating is offered.
    const slot = await freeSlotAfter(server, centre.gpRole, 6);
    const own = await clientFor(server, 'patient', { user });
    expect((await own.post('Appointment', appointmentFor(slot, user.fhirUser.split('/')[1]))).status).toBe(201);
    await page.getByRole('tab', { name: 'My appointments' }).click();
    const card = page.getByRole('article', { name: /^Appointment on / });
    await card.getByText('Booked', { exact: true }).waitFor(T);
    await expect(card.getByRole('button', { name: /^Rate / }).count()).resolves.toBe(0);
    // Rating anyway (a request the app never makes) is refused by the server.
    const role = await stored<{ practitioner: { reference: string } }>(server, 'PractitionerRole', centre.gpRole);
    const refused = await own.post('Basic', {
      resourceType: 'Basic', meta: { profile: [RATING_PROFILE] },
      code: { coding: [{ system: RATING_CODE_SYSTEM, code: 'rating' }] },
      subject: role.practitioner, author: { reference: user.fhirUser },
      extension: [{ url: RATING_SCORE_URL, valueInteger: 5 }],
    });
    expect(refused.status).toBe(422);
    expect(errors).toEqual([]);
  });

  it('refuses a specialist without a GP referral with the server\'s message', async () => {
    const { user, page, errors } = await signIn();
    const slot = await freeSlotAfter(server, centre.specialistRole, 2);
    await openProvider(page, { profession: 'Specialist', specialty: 'cardio' }, centre.specialistName);
    const time = await chooseSlot(page, slot);
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/fhir/Appointment'));
    await page.getByRole('button', { name: `Book ${time}` }).click();
    const response = await answer;
    expect(response.status()).toBe(422);
    const said = (await response.json()).issue[0].details?.text ?? (await response.json()).issue[0].diagnostics;
    await expect(page.getByRole('alert').filter({ hasText: 'The booking was refused' }).textContent(T)).resolves.toContain(said);
    expect(await appointmentsOf(server, user.fhirUser)).toEqual([]);
    expect(errors).toEqual([`422 POST ${server.fhir}/Appointment`]);
  });
});
