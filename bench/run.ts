/**
 * `npm run bench [-- --core | --search | --booking]`: creates a fresh PostgreSQL database
 * (BENCH_DATABASE_URL or TEST_DATABASE_URL names the server; default the local `test` one),
 * starts the real server against it as a child process (LOG_LEVEL=warn), runs the chosen modes
 * with autocannon, prints a summary table and drops the database. Without a flag it runs the
 * CORE benchmark.
 *
 * A mode is a module in bench/ exporting `run(server: BenchServer): Promise<ScenarioResult[]>`
 * (see harness.ts); add it to MODES below. Exit code 1 when a target is missed or a request fails.
 */
import type { BenchServer, ScenarioResult } from './harness.ts';
import { printSummary, startBenchServer } from './harness.ts';

type Mode = (server: BenchServer) => Promise<ScenarioResult[]>;

const MODES: Record<string, () => Promise<Mode>> = {
  core: async () => (await import('./core.ts')).runCore,
  search: async () => (await import('./search.ts' as string)).run as Mode,
  booking: async () => (await import('./booking.ts' as string)).run as Mode,
};

function chosenModes(argv: string[]): string[] {
  const flags = argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
  const unknown = flags.filter((f) => !(f in MODES));
  if (unknown.length) throw new Error(`Unknown mode(s): ${unknown.map((u) => `--${u}`).join(', ')}; known: ${Object.keys(MODES).map((m) => `--${m}`).join(', ')}`);
  return flags.length ? flags : ['core'];
}

async function main(): Promise<number> {
  const modes = chosenModes(process.argv.slice(2));
  const runners = await Promise.all(modes.map(async (m) => {
    try {
      return await MODES[m]();
    } catch (err) {
      throw new Error(`The --${m} benchmark could not be loaded: ${(err as Error).message}`);
    }
  }));
  const server = await startBenchServer();
  process.stdout.write(`Benchmarking ${server.fhir} (${modes.join(', ')})\n`);
  const results: ScenarioResult[] = [];
  try {
    for (const run of runners) results.push(...(await run(server)));
  } finally {
    await server.stop();
  }
  const met = printSummary(results);
  process.stdout.write(met ? '\nAll targets met.\n' : '\nSome targets were missed (see the table).\n');
  return met ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  },
);
