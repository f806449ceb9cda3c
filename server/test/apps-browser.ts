/**
 * Shared by the apps' browser tests: headless Chromium (Debian's, via playwright-core), a check
 * that the apps are built, and signing in through the real login form from an app's page.
 * CI: `apt-get install -y chromium`; `npm test` builds the apps before the tests run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { APPS_DIST } from '../src/apps.ts';
import { startTestServer, type TestServer } from './server.ts';
import { mailedCode, type TestUser } from './auth-helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);

export type AppName = 'booking' | 'charting' | 'analytics';

/** Fails loudly (rather than skipping) when the build is missing: the tests would prove nothing. */
export function assertAppsBuilt(apps: AppName[] = ['booking', 'charting', 'analytics']): void {
  for (const app of apps) {
    if (!fs.existsSync(path.join(APPS_DIST, app, 'index.html'))) {
      throw new Error(`${APPS_DIST}/${app}/index.html is missing: run \`npm run build -w apps\` before these tests (npm test does)`);
    }
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** What each app test file starts once: the real server (logins required) and Chromium. */
export async function startAppTest(apps: AppName[]): Promise<{ server: TestServer; browser: Browser }> {
  assertAppsBuilt(apps);
  const server = await startTestServer({ AUTH_REQUIRED: 'on' });
  return { server, browser: await launchChromium() };
}

export async function stopAppTest(server: TestServer | undefined, browser: Browser | undefined): Promise<void> {
  await browser?.close();
  await server?.close();
}

/**
 * Opens an app in a fresh browser context and signs in as `user` on the server's login pages
 * (e-mailed code, consent and patient picker answered when they appear); resolves once the app
 * is back on its own page. Browser console errors are collected in `errors`.
 */
export async function openAppSignedIn(browser: Browser, server: TestServer, app: AppName, user: TestUser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Failed responses are reported below with their address instead.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  await page.goto(`${server.url}/apps/${app}/`);
  await page.getByLabel('E-mail').waitFor({ timeout: 20_000 }).catch(async (e) => { throw new Error(`${e.message}\nurl ${page.url()}\nerrors ${errors.join('\n')}\n${(await page.content()).slice(0, 1500)}`); });
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  for (let step = 0; step < 4; step++) {
    await page.waitForLoadState();
    if (page.url().startsWith(`${server.url}/apps/${app}/`)) break;
    if (await page.getByLabel('Code from the e-mail').isVisible().catch(() => false)) {
      await page.getByLabel('Code from the e-mail').fill(mailedCode(server, user.email) ?? '');
      await page.getByRole('button', { name: 'Verify' }).click();
    } else if (await page.getByRole('button', { name: 'Allow' }).isVisible().catch(() => false)) {
      await page.getByRole('button', { name: 'Allow' }).click();
    } else if (await page.getByRole('button', { name: 'Continue with this patient' }).isVisible().catch(() => false)) {
      await page.getByRole('button', { name: 'Continue with this patient' }).click();
    } else {
      await page.waitForURL(`${server.url}/apps/${app}/**`, { timeout: 10_000 });
    }
  }
  await page.waitForURL(`${server.url}/apps/${app}/**`, { timeout: 20_000 });
  return { page, errors };
}
