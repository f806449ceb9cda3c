/**
 * The SEARCH benchmark (`npm run bench -- --search`): loads generated clinic data into the
 * bench database (BENCH_SEARCH_SIZE resources, default 1,000,000; Synthea can be added with
 * the CORE ingest), then measures each target query's latency (sequential requests with fresh
 * selective values: p50/p99) and the throughput of selective name search with autocannon.
 *
 * Entry points: `run(server)` for bench/run.ts, and
 * `runSearchBench({ server, size?, samples?, duration?, connections? })`.
 */
import { PostgresDatabase } from '../server/src/db/postgres.ts';
import { loadDefinitions } from '../server/src/fhir/definitions.ts';
import { setLocalBaseUrl } from '../server/src/fhir/references.ts';
import { measure, percentile, printScenario, type BenchServer, type ScenarioResult } from './harness.ts';
import { FAMILIES, loadGenerated, rng, searchQueries, type Generated } from './search-data.ts';

export interface SearchBenchOptions {
  server: BenchServer;
  /** Resources to generate (default BENCH_SEARCH_SIZE or 1,000,000). */
  size?: number;
  /** Sequential requests per query for the latency figures (default 200). */
  samples?: number;
  /** Seconds of the autocannon throughput run (default BENCH_DURATION or 10). */
  duration?: number;
  connections?: number;
}

const P99_TARGET_MS = 50;
const NAME_SEARCH_RPS_TARGET = 2_500;

export async function runSearchBench(opts: SearchBenchOptions): Promise<ScenarioResult[]> {
  const size = opts.size ?? Number(process.env.BENCH_SEARCH_SIZE ?? 1_000_000);
  const samples = opts.samples ?? Number(process.env.BENCH_SEARCH_SAMPLES ?? 200);
  const duration = opts.duration ?? Number(process.env.BENCH_DURATION ?? 10);
  const connections = opts.connections ?? Number(process.env.BENCH_CONNECTIONS ?? 10);
  loadDefinitions();
  setLocalBaseUrl(opts.server.fhir);

  const db = new PostgresDatabase(opts.server.databaseUrl, 4);
  const started = Date.now();
  let generated: Generated | undefined;
  try {
    generated = await existingData(db);
    if (generated) {
      process.stdout.write(`\n▶ using the data already in the database (${generated.patients.length} patients)\n`);
    } else {
      process.stdout.write(`\n▶ loading ${size} generated resources\n`);
      generated = await loadGenerated(db, size, (done) => {
        if (done % 50_000 < 500) process.stdout.write(`  ${done} resources, ${Math.round(done / ((Date.now() - started) / 1000))}/s\n`);
      });
      const loadSecs = (Date.now() - started) / 1000;
      process.stdout.write(`  loaded in ${loadSecs.toFixed(0)} s (${Math.round(size / loadSecs)} resources/s)\n`);
    }
    // What autovacuum does after a bulk load (statistics, and the visibility map that lets index-only
    // scans skip the table); our CI machines run PostgreSQL with autovacuum off, so do it here.
    await db.query('VACUUM ANALYZE');
    // Write the load's dirty pages out now, so the checkpointer does not flush them while the
    // latencies are measured (a first run measured p99s 3–9 times the repeat run's without this).
    await db.query('CHECKPOINT');
  } finally {
    await db.close();
  }
  const results: ScenarioResult[] = [];
  for (const q of searchQueries(generated)) {
    // Warm-up, then sequential timed requests.
    for (let i = 0; i < 10; i++) await fetch(`${opts.server.fhir}/${q.path()}`).then((r) => r.arrayBuffer());
    const times: number[] = [];
    let failures = 0;
    const t0 = Date.now();
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      const res = await fetch(`${opts.server.fhir}/${q.path()}`);
      await res.arrayBuffer();
      times.push(performance.now() - t);
      if (res.status !== 200) failures++;
    }
    const scenario: ScenarioResult = {
      name: q.name,
      requestsPerSec: samples / ((Date.now() - t0) / 1000),
      p50: Math.round(percentile(times, 50) * 10) / 10,
      p99: Math.round(percentile(times, 99) * 10) / 10,
      requests: samples,
      failures,
      targets: { p99: P99_TARGET_MS },
    };
    process.stdout.write(`\n▶ ${q.name} (sequential, ${samples} requests)\n`);
    printScenario(scenario);
    results.push(scenario);
  }

  const r = rng(99);
  results.push(
    await measure(
      'selective name search (throughput)',
      {
        url: opts.server.fhir,
        connections,
        duration,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/fhir/Patient?name=${FAMILIES[Math.floor(r() * FAMILIES.length)]}` }) }],
      },
      { requestsPerSec: NAME_SEARCH_RPS_TARGET, p99: P99_TARGET_MS },
    ),
  );
  return results;
}

/** Ids from generated data a kept database already holds (BENCH_DATABASE_NAME), if any. */
async function existingData(db: PostgresDatabase): Promise<Generated | undefined> {
  const ids = async (type: string) =>
    (await db.query<{ id: string }>('SELECT id FROM resource WHERE type = $1 AND NOT deleted ORDER BY id LIMIT 20000', [type])).rows.map((r) => r.id);
  const patients = await ids('Patient');
  if (patients.length === 0) return undefined;
  return { patients, practitioners: await ids('Practitioner'), organizations: await ids('Organization') };
}

/** The mode entry point bench/run.ts calls. */
export function run(server: BenchServer): Promise<ScenarioResult[]> {
  return runSearchBench({ server });
}
