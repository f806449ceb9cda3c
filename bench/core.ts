/**
 * The CORE benchmark: create Patient, read Patient by id, update with If-Match, the same create and
 * read with a backend-services token (the EHR path), and transaction
 * ingest of the Synthea bundles, against a server started by the harness.
 *
 * Knobs (environment): BENCH_DURATION seconds per autocannon scenario (10), BENCH_CONNECTIONS
 * (10), BENCH_INGEST_BUNDLES (how many patient bundles to ingest; all by default),
 * BENCH_INGEST_CONCURRENCY (bundles in flight, 4), SYNTHEA_DIR.
 */
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { measure, percentile, printScenario, type BenchServer, type ScenarioResult } from './harness.ts';
import { backendAccessToken } from './backend-client.ts';
import { benchPatient as patient, createPatients, FHIR_JSON } from './patients.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** The repository's root; the shared fixtures sit beside it (../shared). */
const REPO_ROOT_URL = new URL('../', import.meta.url);
const SYNTHEA_DIR = process.env.SYNTHEA_DIR ?? fileURLToPath(new URL('../shared/fixtures/synthea', REPO_ROOT_URL));
const INGEST_CONCURRENCY = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 4);
/**
 * Who sends the requests: the bench's token-less caller (held to the targets, which are
 * the store's), or an external EHR with a backend-services access token, whose every request also
 * verifies the token, applies the SMART and CARE policies and is audited (an AuditEvent per
 * create, in the same commit; reads are audited in batches). The EHR figures have no targets:
 * they show what that path adds.
 */
interface Caller {
  label: string;
  headers: Record<string, string>;
  targets?: { create: ScenarioResult['targets']; read: ScenarioResult['targets'] };
}

const STORE: Caller = { label: '', headers: {}, targets: { create: { requestsPerSec: 1_200, p99: 50 }, read: { requestsPerSec: 4_000, p99: 50 } } };

async function backendCaller(server: BenchServer): Promise<Caller> {
  return { label: ' (backend token)', headers: { authorization: `Bearer ${await backendAccessToken(server, 'system/Patient.cruds')}` } };
}

function createScenario(server: BenchServer, caller: Caller): Promise<ScenarioResult> {
  return measure(`create Patient${caller.label}`, {
    url: server.fhir,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ method: 'POST', path: '/fhir/Patient', headers: { ...FHIR_JSON, ...caller.headers }, setupRequest: (req) => ({ ...req, body: JSON.stringify(patient()) }) }],
  }, caller.targets?.create);
}

async function readScenario(server: BenchServer, caller: Caller): Promise<ScenarioResult> {
  const ids = await createPatients(server, 2_000);
  let next = 0;
  return measure(`read Patient by id${caller.label}`, {
    url: server.fhir,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ method: 'GET', headers: { accept: 'application/fhir+json', ...caller.headers }, setupRequest: (req) => ({ ...req, path: `/fhir/Patient/${ids[next++ % ids.length]}` }) }],
  }, caller.targets?.read);
}

/**
 * Updates with If-Match. Each request in flight owns one resource: it takes a free one with its
 * known version, and the response's ETag gives the version for the next update of it.
 */
async function updateScenario(server: BenchServer): Promise<ScenarioResult> {
  const ids = await createPatients(server, CONNECTIONS * 2);
  const version = new Map(ids.map((id) => [id, 1]));
  const free = [...ids];
  // When every resource is in flight (should not happen: one per connection), reuse one anyway.
  let spare = 0;
  return measure('update Patient with If-Match', {
    url: server.fhir,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{
      method: 'PUT',
      setupRequest: (req, context) => {
        const id = free.shift() ?? ids[spare++ % ids.length];
        context.id = id;
        return {
          ...req,
          path: `/fhir/Patient/${id}`,
          headers: { ...FHIR_JSON, 'if-match': `W/"${version.get(id)}"` },
          body: JSON.stringify(patient(id)),
        };
      },
      onResponse: (_status, _body, context, headers) => {
        const id = context.id as string;
        const etag = Object.entries(headers).find(([k]) => k.toLowerCase() === 'etag')?.[1];
        const v = /"(\d+)"/.exec(String(etag ?? ''))?.[1];
        if (v) version.set(id, Number(v));
        free.push(id);
      },
    }],
  }, { p99: 50 });
}

/** Posts the Synthea bundles (shared batches first, then patient transactions concurrently). */
async function ingestScenarios(server: BenchServer): Promise<ScenarioResult[]> {
  const files = fs.readdirSync(SYNTHEA_DIR).filter((f) => f.endsWith('.json')).sort();
  const shared = files.filter((f) => /^(hospitalInformation|practitionerInformation)/.test(f));
  const limit = Number(process.env.BENCH_INGEST_BUNDLES ?? Infinity);
  const patients = files.filter((f) => !shared.includes(f)).slice(0, limit);
  const bodies = new Map(files.filter((f) => shared.includes(f) || patients.includes(f)).map((f) => [f, fs.readFileSync(path.join(SYNTHEA_DIR, f), 'utf8')]));
  const results: ScenarioResult[] = [];
  process.stdout.write(`\n▶ Synthea batch ingest (${shared.length} shared bundles with ifNoneExist, one at a time)\n`);
  results.push(await ingest('Synthea batch ingest (ifNoneExist)', shared, bodies, server, 1));
  process.stdout.write(`\n▶ Synthea transaction ingest (${patients.length} patient bundles, ${INGEST_CONCURRENCY} at a time)\n`);
  results.push(await ingest('Synthea transaction ingest', patients, bodies, server, INGEST_CONCURRENCY, 3_000));
  return results;
}

async function ingest(name: string, files: string[], bodies: Map<string, string>, server: BenchServer, concurrency: number, target?: number): Promise<ScenarioResult> {
  const latencies: number[] = [];
  let resources = 0;
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < files.length) {
      const file = files[next++];
      const body = bodies.get(file) as string;
      const t0 = performance.now();
      const res = await fetch(server.fhir, { method: 'POST', headers: { ...FHIR_JSON, prefer: 'return=minimal' }, body });
      const answer = (await res.json()) as { entry?: { response?: { status?: string } }[] };
      latencies.push(performance.now() - t0);
      const ok = (answer.entry ?? []).filter((e) => /^20[01]/.test(e.response?.status ?? '')).length;
      resources += ok;
      if (res.status !== 200 || ok !== (JSON.parse(body).entry ?? []).length) failures++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const result: ScenarioResult = {
    name,
    requestsPerSec: files.length / seconds,
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    requests: files.length,
    failures,
    extra: { label: 'resources/s', value: resources / seconds },
    targets: target ? { extra: target } : undefined,
  };
  printScenario(result);
  return result;
}

export async function runCore(server: BenchServer): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  results.push(await createScenario(server, STORE));
  results.push(await readScenario(server, STORE));
  results.push(await updateScenario(server));
  const ehr = await backendCaller(server);
  results.push(await createScenario(server, ehr));
  results.push(await readScenario(server, ehr));
  results.push(...(await ingestScenarios(server)));
  return results;
}
