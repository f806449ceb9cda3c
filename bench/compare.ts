/**
 * `npm run bench:compare -- <git ref> [--create | --read | --update | --search | --auth-create |
 * --auth-read | --auth-update]`: this checkout
 * against an earlier one, measured side by side. Both servers run at once, each on its own fresh
 * PostgreSQL database, and the load alternates between them round by round (BENCH_ROUNDS, default
 * 6, of BENCH_DURATION seconds, default 6), so that whatever else the machine is doing weighs on
 * both alike. On our shared 2-core machines single runs of `npm run bench` vary by ±15% from one
 * run to the next; alternating rounds make a 5% change visible.
 *
 * Besides req/s and p99 it prints CPU milliseconds per request of the server process and of all
 * PostgreSQL processes (from /proc, so Linux only), which tells where a change saved its time.
 * The earlier checkout is a temporary git worktree sharing this checkout's node_modules. The auth-
 * scenarios send a backend-services access token (the EHR path: token check, policies, audit).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Request } from 'autocannon';
import { measure, ROOT, startBenchServer, type BenchServer } from './harness.ts';
import { backendAccessToken } from './backend-client.ts';
import { benchPatient as patient, createPatients, FHIR_JSON } from './patients.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const DURATION = Number(process.env.BENCH_DURATION ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SCENARIOS = ['create', 'read', 'update', 'search', 'auth-create', 'auth-read', 'auth-update'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Contender {
  label: string;
  server: BenchServer;
  ids: string[];
  /** `Bearer …` of a backend client, for the auth- scenarios. */
  authorization?: string;
  rounds: { requestsPerSec: number; p99: number; serverMs: number; postgresMs: number }[];
}

/** CPU time (ms) of every process, by pid, with its command name. */
function cpuByProcess(): Map<number, { comm: string; ms: number }> {
  const out = new Map<number, { comm: string; ms: number }>();
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, in clock ticks (100 per second on Linux).
      out.set(Number(pid), { comm, ms: (Number(fields[11]) + Number(fields[12])) * 10 });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** CPU spent between two readings by the server process and by PostgreSQL's processes. */
function cpuSpent(before: ReturnType<typeof cpuByProcess>, after: ReturnType<typeof cpuByProcess>, serverPid: number): { server: number; postgres: number } {
  let server = 0;
  let postgres = 0;
  for (const [pid, { comm, ms }] of after) {
    const spent = ms - (before.get(pid)?.ms ?? 0);
    if (pid === serverPid) server += spent;
    else if (comm.startsWith('postgres')) postgres += spent;
  }
  return { server, postgres };
}

function requestsFor(scenario: Scenario, c: Contender): Request[] {
  let next = 0;
  const anyId = () => c.ids[next++ % c.ids.length];
  // The auth- scenarios are their token-less twins with the backend client's token.
  const auth: Record<string, string> = c.authorization ? { authorization: c.authorization } : {};
  switch (scenario) {
    case 'create':
    case 'auth-create':
      return [{ method: 'POST', path: '/fhir/Patient', headers: { ...FHIR_JSON, ...auth }, setupRequest: (req) => ({ ...req, body: JSON.stringify(patient()) }) }];
    case 'read':
    case 'auth-read':
      return [{ method: 'GET', headers: { accept: FHIR_JSON.accept, ...auth }, setupRequest: (req) => ({ ...req, path: `/fhir/Patient/${anyId()}` }) }];
    case 'update':
    case 'auth-update':
      return [{ method: 'PUT', headers: { ...FHIR_JSON, ...auth }, setupRequest: (req) => { const id = anyId(); return { ...req, path: `/fhir/Patient/${id}`, body: JSON.stringify(patient(id)) }; } }];
    case 'search':
      return [{ method: 'GET', headers: { accept: FHIR_JSON.accept }, setupRequest: (req) => ({ ...req, path: `/fhir/Patient?name=Bench${next++ % 997}` }) }];
  }
}

/** A worktree of `ref` beside this checkout, using this checkout's installed packages. */
function worktreeOf(ref: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'));
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', '--force', dir, ref], { stdio: 'ignore' });
  for (const modules of ['node_modules', ...['server', 'bots', 'seed'].map((w) => `${w}/node_modules`)]) {
    if (fs.existsSync(path.join(ROOT, modules)) && fs.existsSync(path.dirname(path.join(dir, modules)))) {
      fs.symlinkSync(path.join(ROOT, modules), path.join(dir, modules));
    }
  }
  return { dir, remove: () => execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' }) };
}

async function main(): Promise<void> {
  const ref = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const flag = process.argv.slice(2).find((a) => a.startsWith('--'))?.slice(2) ?? 'create';
  if (!ref) throw new Error(`usage: npm run bench:compare -- <git ref> [${SCENARIOS.map((s) => `--${s}`).join(' | ')}]`);
  if (!SCENARIOS.includes(flag as Scenario)) throw new Error(`unknown scenario --${flag}; known: ${SCENARIOS.map((s) => `--${s}`).join(', ')}`);
  const scenario = flag as Scenario;
  const base = worktreeOf(ref);
  const contenders: Contender[] = [];
  try {
    for (const [label, root] of [[ref, base.dir], ['this checkout', ROOT]]) {
      contenders.push({ label, server: await startBenchServer({}, root), ids: [], rounds: [] });
    }
    for (const c of contenders) {
      c.ids.push(...(await createPatients(c.server, 2_000)));
      if (scenario.startsWith('auth-')) c.authorization = `Bearer ${await backendAccessToken(c.server, 'system/Patient.cruds')}`;
      await measure(`${c.label}: warm-up`, { url: c.server.url, connections: CONNECTIONS, duration: 5, requests: requestsFor(scenario, c) });
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate who goes first, so neither always runs right after the other's load.
      for (const c of round % 2 ? [...contenders].reverse() : contenders) {
        const before = cpuByProcess();
        const result = await measure(`${c.label}: ${scenario}, round ${round + 1}`, { url: c.server.url, connections: CONNECTIONS, duration: DURATION, requests: requestsFor(scenario, c) });
        const spent = cpuSpent(before, cpuByProcess(), c.server.pid);
        c.rounds.push({ requestsPerSec: result.requestsPerSec, p99: result.p99, serverMs: spent.server / result.requests, postgresMs: spent.postgres / result.requests });
      }
    }
  } finally {
    for (const c of contenders) await c.server.stop();
    base.remove();
  }
  const mean = (c: Contender, key: keyof Contender['rounds'][number]) => c.rounds.reduce((sum, r) => sum + r[key], 0) / c.rounds.length;
  process.stdout.write(`\n${scenario}: ${ROUNDS} alternating rounds of ${DURATION} s, ${CONNECTIONS} connections\n`);
  for (const c of contenders) {
    process.stdout.write(
      `${c.label.padEnd(16)} ${mean(c, 'requestsPerSec').toFixed(0).padStart(6)} req/s  p99 ${mean(c, 'p99').toFixed(0).padStart(3)} ms  ` +
        `CPU per request: server ${mean(c, 'serverMs').toFixed(3)} ms, PostgreSQL ${mean(c, 'postgresMs').toFixed(3)} ms  ` +
        `(rounds: ${c.rounds.map((r) => r.requestsPerSec.toFixed(0)).join(' ')})\n`,
    );
  }
  const [before, after] = contenders.map((c) => mean(c, 'requestsPerSec'));
  process.stdout.write(`change: ${after >= before ? '+' : ''}${(((after - before) / before) * 100).toFixed(1)}% req/s\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench:compare: ${err.message}\n`);
  process.exit(2);
});
