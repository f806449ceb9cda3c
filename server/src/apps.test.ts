import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appsRouter } from './apps.ts';
import { OperationOutcomeError } from './fhir/outcomes.ts';

/** An express app serving `dist` at /apps, with errors answered as their outcome's text. */
async function serve(dist: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use('/apps', appsRouter(dist));
  app.use((err: OperationOutcomeError, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status).json(err.outcome);
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apps-dist-'));
const built = path.join(tmp, 'built');
let withBuild: Awaited<ReturnType<typeof serve>>;
let withoutBuild: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  fs.mkdirSync(path.join(built, 'booking'), { recursive: true });
  fs.mkdirSync(path.join(built, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(built, 'booking', 'index.html'), '<!doctype html><title>Book a visit</title>');
  fs.writeFileSync(path.join(built, 'assets', 'booking-abc123.js'), 'console.log(1)');
  withBuild = await serve(built);
  withoutBuild = await serve(path.join(tmp, 'missing'));
});
afterAll(async () => {
  await withBuild?.close();
  await withoutBuild?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('serving the built apps', () => {
  it('serves an app at /apps/<app>/ (its index), never cached, and redirects the bare path', async () => {
    const res = await fetch(`${withBuild.url}/apps/booking/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Book a visit');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const bare = await fetch(`${withBuild.url}/apps/booking`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/apps/booking/');
  });

  it('caches hashed assets for a year', async () => {
    const res = await fetch(`${withBuild.url}/apps/assets/booking-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('answers unknown paths with 404, and says how to build when there is no build', async () => {
    const unknown = await fetch(`${withBuild.url}/apps/nothing-here/`);
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toContain('Unknown path /apps/nothing-here/');
    const missing = await fetch(`${withoutBuild.url}/apps/booking/`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(await missing.json())).toContain('npm run build -w apps');
  });

  it('does not serve files outside the build', async () => {
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP-SECRET-CONTENT');
    const res = await fetch(`${withBuild.url}/apps/..%2Fsecret.txt`);
    // (the 404 outcome may echo the path; the file's content must not appear)
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('TOP-SECRET-CONTENT');
  });
});
