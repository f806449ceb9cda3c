/**
 * The booking app (apps/booking) in headless Chromium against the real server: a patient signs
 * in through the SMART login and sees who they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from './server.ts';
import { createUser } from './auth-helpers.ts';
import { assertAppsBuilt, hasChromium, launchChromium, openAppSignedIn } from './apps-browser.ts';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!hasChromium) return;
  assertAppsBuilt(['booking']);
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!hasChromium)('booking app', () => {
  it('signs a patient in with SMART (PKCE) and shows them as signed in', async () => {
    const user = await createUser(server, 'patient');
    const { page, errors } = await openAppSignedIn(browser, server, 'booking', user);
    await expect(page.getByText(`Signed in as ${user.fhirUser}`).waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
    expect(errors).toEqual([]);
  });
});
