/**
 * What every benchmark mode shares: a fresh PostgreSQL database, the real server started as a
 * child process against it, an autocannon wrapper that reports req/s and latency percentiles,
 * and the summary table. Modes (core.ts, search.ts, booking.ts) use only this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Options as AutocannonOptions } from 'autocannon';
import pg from 'pg';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One measured scenario, as printed in the summary. */
export interface ScenarioResult {
  name: string;
  /** Requests per second (mean over the run). */
  requestsPerSec: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  requests: number;
  /** Responses that were not 2xx, and connection errors/timeouts. */
  failures: number;
  /** Extra throughput figure, e.g. resources per second for ingest. */
  extra?: { label: string; value: number };
  /** Targets this scenario is held to (checked in the summary). */
  targets?: { requestsPerSec?: number; p99?: number; extra?: number };
}

export interface BenchServer {
  url: string;
  /** The server's process id (for CPU accounting). */
  pid: number;
  fhir: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

export function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh database, starts `node server/src/main.ts` on it (LOG_LEVEL=warn) and waits
 * for /healthz. `stop()` stops the server and drops the database.
 */
/** `root`: the checkout whose server to start (bench/compare.ts starts an older one beside this). */
export async function startBenchServer(env: Record<string, string> = {}, root = ROOT): Promise<BenchServer> {
  // BENCH_DATABASE_NAME reuses a database a run kept (BENCH_KEEP_DATABASE=1) instead of a fresh one.
  const reused = process.env.BENCH_DATABASE_NAME;
  const name = reused || `bench_${randomBytes(5).toString('hex')}`;
  if (!reused) await adminQuery(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(adminUrl());
  dbUrl.pathname = `/${name}`;
  const databaseUrl = dbUrl.toString();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const dropDatabase = async () => {
    if (!reused) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    child = spawn(process.execPath, [path.join(root, 'server/src/main.ts')], {
      // Token-less requests (AUTH_REQUIRED=off): these figures are the store's, without token checks.
      env: { ...process.env, PORT: String(port), BASE_URL: url, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', AUTH_REQUIRED: 'off', SEED_DEMO: 'off', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await waitHealthy(url, child);
  } catch (err) {
    child?.kill('SIGKILL');
    await dropDatabase();
    throw err;
  }
  const running = child;
  return {
    url,
    pid: running.pid as number,
    fhir: `${url}/fhir`,
    databaseUrl,
    async stop() {
      if (running.exitCode === null) {
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (running.exitCode === null) running.kill('SIGKILL');
      }
      // BENCH_KEEP_DATABASE=1 leaves the database for a closer look (its name is printed).
      if (process.env.BENCH_KEEP_DATABASE === '1' || reused) process.stdout.write(`kept database ${name}\n`);
      else await dropDatabase();
    },
  };
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} during start`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the server did not become healthy within 60 s');
}

/** Runs autocannon and condenses its result into a ScenarioResult. */
export async function measure(name: string, options: AutocannonOptions, targets?: ScenarioResult['targets']): Promise<ScenarioResult> {
  process.stdout.write(`\n▶ ${name} (${options.connections ?? 10} connections, ${options.duration ?? 10} s)\n`);
  const result = await autocannon({ connections: 10, duration: 10, ...options });
  const failures = result.non2xx + result.errors + result.timeouts;
  const scenario: ScenarioResult = {
    name,
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures,
    targets,
  };
  printScenario(scenario);
  return scenario;
}

/** Latency percentile (ms) of a list of samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function printScenario(s: ScenarioResult): void {
  const extra = s.extra ? `, ${fmt(s.extra.value)} ${s.extra.label}` : '';
  process.stdout.write(
    `  ${fmt(s.requestsPerSec)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.requests} requests, ${s.failures} failures${extra}\n`,
  );
}

function fmt(n: number): string {
  return n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
}

/** The final table; returns false when a target was missed or a request failed. */
export function printSummary(results: ScenarioResult[]): boolean {
  const rows = [['scenario', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'failures', 'throughput', 'targets']];
  let allMet = true;
  for (const r of results) {
    const missed: string[] = [];
    const t = r.targets ?? {};
    if (t.requestsPerSec !== undefined && r.requestsPerSec < t.requestsPerSec) missed.push(`req/s ≥ ${fmt(t.requestsPerSec)}`);
    if (t.p99 !== undefined && r.p99 >= t.p99) missed.push(`p99 < ${t.p99} ms`);
    if (t.extra !== undefined && r.extra && r.extra.value < t.extra) missed.push(`${r.extra.label} ≥ ${fmt(t.extra)}`);
    if (r.failures > 0) missed.push('no failures');
    const hasTargets = Object.keys(t).length > 0;
    if (missed.length) allMet = false;
    rows.push([
      r.name,
      fmt(r.requestsPerSec),
      String(r.p50),
      String(r.p99),
      String(r.requests),
      String(r.failures),
      r.extra ? `${fmt(r.extra.value)} ${r.extra.label}` : '',
      missed.length ? `MISSED: ${missed.join(', ')}` : hasTargets ? 'met' : '',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 || c >= 6 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  process.stdout.write(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of rows.slice(1)) process.stdout.write(`${line(row)}\n`);
  return allMet;
}
