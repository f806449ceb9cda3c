/**
 * The login form with its e-mailed second factor, driven in headless Chromium (Debian's
 * /usr/bin/chromium via playwright-core) with JavaScript disabled: the forms must work on
 * their own, and every field is found by its accessible label.
 * CI: `apt-get install -y chromium`. Skipped, with a message, when Chromium is absent.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from './server.ts';
import { authorizeUrl, createUser, mailedCode, pkce, tokenRequest } from './auth-helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`auth-browser: skipped, ${CHROMIUM} not found (apt-get install -y chromium)`);

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!hasChromium) return;
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!hasChromium)('login form in headless Chromium', () => {
  it('signs in with password and the e-mailed code, without JavaScript, and the code works', async () => {
    const user = await createUser(server, 'patient', { secondFactor: true });
    const { verifier, challenge } = pkce();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(authorizeUrl(server, { scope: 'openid fhirUser launch/patient patient/*.rs', challenge, state: 'browser-state' }));
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);

    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not correct/);

    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Code from the e-mail').waitFor();
    const code = mailedCode(server, user.email)!;
    expect(code).toMatch(/^\d{6}$/);
    await page.getByLabel('Code from the e-mail').fill(code);
    // The app's page itself is not part of this test: wait for the redirect to it.
    const [redirect] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(`${server.url}/apps/booking/`)),
      page.getByRole('button', { name: 'Verify' }).click(),
    ]);
    const back = new URL(redirect.url());
    expect(back.searchParams.get('state')).toBe('browser-state');
    const token = await tokenRequest(server, {
      grant_type: 'authorization_code', code: back.searchParams.get('code')!, client_id: 'booking-app',
      redirect_uri: `${server.url}/apps/booking/`, code_verifier: verifier,
    });
    expect(token.status).toBe(200);
    expect(token.body.patient).toBe(user.fhirUser.split('/')[1]);
    // The login cookie is HttpOnly and gone once the login finished.
    expect((await context.cookies()).filter((c) => c.name === 'smart_login')).toEqual([]);
    await context.close();
  });
});
