/**
 * `npm run reindex [-- --restart] [-- --types=Patient,Observation] [-- --batch=200]`: rebuilds
 * the search indexes of every stored resource, with a progress bar. Resumes an interrupted run
 * unless --restart. With PostgreSQL (DATABASE_URL) the server keeps serving meanwhile; the
 * embedded PGlite database can only be opened by one process, so stop the server first.
 */
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import { setLocalBaseUrl } from '../fhir/references.ts';
import { reindex, type ReindexProgress } from '../fhir/search/reindex.ts';

function flag(name: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!arg) return undefined;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : 'true';
}

function bar(p: ReindexProgress, started: number): string {
  const width = 30;
  const ratio = p.total ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(ratio * width);
  const secs = (Date.now() - started) / 1000;
  const rate = secs > 0 ? p.done / secs : 0;
  const eta = rate > 0 ? Math.max(0, (p.total - p.done) / rate) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ${p.done}/${p.total} resources, ${rate.toFixed(0)}/s, ETA ${eta.toFixed(0)}s`;
}

async function main(): Promise<void> {
  const config = loadConfig();
  setLocalBaseUrl(config.fhirBaseUrl);
  const db = await openDatabase(config);
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  try {
    const result = await reindex(db, {
      restart: flag('restart') === 'true',
      types: flag('types')?.split(',').filter(Boolean),
      batchSize: flag('batch') ? Number(flag('batch')) : undefined,
      onProgress: (p) => {
        if (p.done === 0 && p.resumed) process.stderr.write(`resuming an interrupted reindex\n`);
        // Redraw in place on a terminal; otherwise a line every 2 seconds.
        if (tty) process.stderr.write(`\r${bar(p, started)}`);
        else if (p.finished || Date.now() - lastLine > 2000) {
          lastLine = Date.now();
          process.stderr.write(`${bar(p, started)}\n`);
        }
      },
    });
    process.stderr.write(`${tty ? '\n' : ''}reindexed ${result.done} resources in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  process.stderr.write(`reindex failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
