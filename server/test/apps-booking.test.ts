/**
 * The booking app (apps/booking) in headless Chromium against the real server: a patient signs
 * in through the SMART login, finds a provider, books a free slot, sees and cancels it; refusals
 * (slot taken meanwhile, specialist without referral) show the server's own message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Slot } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from './server.ts';
import { createUser, type TestUser } from './auth-helpers.ts';
import { clientFor } from './care-helpers.ts';
import { appointmentFor } from './sched-fixtures.ts';
import { hasChromium, openAppSignedIn, startAppTest, stopAppTest } from './apps-browser.ts';
import { appointmentsOf, buildCentre, freeSlotAfter, localDayAndTime, stored, type Centre } from './apps-booking-fixtures.ts';

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
