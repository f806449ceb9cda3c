/**
 * `npm run import -- DIR`: loads centres.csv, users.csv and provider_centres.csv from DIR (see
 * CONTRACT "Accounts and import"). Uses DATABASE_URL / DATA_DIR like the server. Exit code 0 on
 * success, 1 when any row is bad (nothing imported), 2 on usage or runtime errors.
 */
import fs from 'node:fs';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import { setLogLevel } from '../log.ts';
import { stderrProgress } from '../import/progress.ts';
import { formatProblem, runImport } from '../import/run.ts';

async function main(argv: string[]): Promise<number> {
  const dir = argv[0];
  if (!dir || argv.length > 1 || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    process.stderr.write('usage: npm run import -- DIR   (DIR holds centres.csv, users.csv, provider_centres.csv)\n');
    return 2;
  }
  const config = loadConfig();
  setLogLevel(config.logLevel === 'debug' ? 'debug' : 'warn');
  const db = await openDatabase(config);
  try {
    const outcome = await runImport(db, dir, stderrProgress());
    if (!outcome.ok) {
      for (const p of outcome.problems) process.stderr.write(formatProblem(p) + '\n');
      process.stderr.write(`${outcome.problems.length} problem(s) found; nothing was imported.\n`);
      return 1;
    }
    const c = outcome.counts;
    process.stdout.write(`Imported: ${c.created} resources created, ${c.updated} updated, ${c.unchanged} unchanged; ${c.accountsCreated} accounts created.\n`);
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`import failed: ${err.message}\n`);
    process.exit(2);
  },
);
