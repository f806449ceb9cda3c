/**
 * Starting real server processes (`node server/src/main.ts`):
 * - embedded PGlite: a second process on the same DATA_DIR refuses to start with a clear
 *   message, and the directory is usable again once the first process has stopped;
 * - embedded PGlite with the demo data (what the README's first command runs): loaded once on an
 *   empty directory, served, and kept across a restart;
 * - PostgreSQL: two servers starting at once on one empty database both come up (migrations
 *   queue on an advisory lock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from './db.ts';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const children = new Set<ChildProcess>();
const cleanup: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const fn of cleanup) await fn();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns the server with `env` (no DATABASE_URL unless given) on a free port. */
async function spawnServer(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const { DATABASE_URL: _db, DATA_DIR: _dir, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], {
    // Token-less calls run as the platform: this file tests the store, not authorization.
    env: { ...inherited, PORT: String(port), LOG_LEVEL: 'info', AUTH_REQUIRED: 'off', SEED_DEMO: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let text = '';
  child.stdout?.on('data', (d) => (text += d));
  child.stderr?.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));
  return { child, port, output: () => text, exited };
}

/** Resolves once /healthz answers 200; rejects if the process exits first. */
async function healthy(s: Started, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void s.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before becoming healthy:\n${s.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${s.output()}`);
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

describe('server processes', () => {
  it('PGlite: a second process on the same DATA_DIR refuses to start, with a clear message', { timeout: 120_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-pglite-'));
    cleanup.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));

    const first = await spawnServer({ DATA_DIR: dataDir });
    await healthy(first);
    const created = await fetch(`http://127.0.0.1:${first.port}/fhir/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Locked' }] }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const second = await spawnServer({ DATA_DIR: dataDir });
    const code = await second.exited;
    expect(code).not.toBe(0);
    expect(second.output()).toContain(`The embedded database in ${dataDir} is in use by another process`);
    // The first server is unharmed.
    expect((await fetch(`http://127.0.0.1:${first.port}/fhir/Patient/${id}`)).status).toBe(200);

    // Once the first one stops, the directory (and its data) is usable again.
    expect(await stop(first)).toBe(0);
    const third = await spawnServer({ DATA_DIR: dataDir });
    await healthy(third);
    expect((await fetch(`http://127.0.0.1:${third.port}/fhir/Patient/${id}`)).status).toBe(200);
    expect(await stop(third)).toBe(0);
  });

  it("PGlite with the demo data, as the README's first command starts it: seeded once, kept across a restart", { timeout: 240_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-demo-'));
    cleanup.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const total = async (port: number, query: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/fhir/${query}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { total?: number }).total;
    };

    const first = await spawnServer({ DATA_DIR: dataDir, SEED_DEMO: 'on' });
    await healthy(first, 180_000);
    expect(first.output()).toContain('demo data loaded');
    expect(await total(first.port, 'Patient?_summary=count')).toBe(200);
    expect(await total(first.port, 'Location?name=royal%20randwick&_total=accurate')).toBe(1);
    expect(await total(first.port, 'Appointment?_summary=count')).toBeGreaterThan(0);
    expect(await stop(first)).toBe(0);

    // The data is on disk: a restart serves it and does not load it again.
    const second = await spawnServer({ DATA_DIR: dataDir, SEED_DEMO: 'on' });
    await healthy(second);
    expect(await total(second.port, 'Patient?_summary=count')).toBe(200);
    expect(second.output()).not.toContain('loading the demo data');
    expect(await stop(second)).toBe(0);
  });

  it('PostgreSQL: two servers starting at once on an empty database both come up', { timeout: 120_000 }, async () => {
    const { url, drop } = await createPostgresDatabase('start');
    const both = await Promise.all([spawnServer({ DATABASE_URL: url }), spawnServer({ DATABASE_URL: url })]);
    cleanup.push(async () => {
      for (const s of both) if (children.has(s.child)) await stop(s);
      await drop();
    });
    await Promise.all(both.map((s) => healthy(s)));
    // Each one serves writes and sees the other's.
    const res = await fetch(`http://127.0.0.1:${both[0].port}/fhir/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Twin' }] }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await fetch(`http://127.0.0.1:${both[1].port}/fhir/Patient/${id}`)).status).toBe(200);
    const applying = both.map((s) => (s.output().match(/applying migration/g) ?? []).length);
    expect(Math.min(...applying), 'only one server applies the migrations').toBe(0);
    expect(Math.max(...applying)).toBeGreaterThan(0);
    for (const s of both) expect(await stop(s)).toBe(0);
  });
});
