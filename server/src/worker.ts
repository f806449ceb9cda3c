/**
 * `npm run worker`: a background-job process for BullMQ mode (REDIS_URL set). Runs the outbox
 * dispatcher and the queue workers; start as many as you like, on as many machines. A worker
 * killed mid-job loses nothing: its outbox leases and BullMQ locks expire and others take over.
 */
import { loadConfig } from './config.ts';
import { openDatabase } from './db/connect.ts';
import { loadDefinitions } from './fhir/definitions.ts';
import { setLocalBaseUrl } from './fhir/references.ts';
import { startJobs } from './jobs/runtime.ts';
import { log, setLogLevel } from './log.ts';

export async function startWorker(env: NodeJS.ProcessEnv = process.env): Promise<{ close: () => Promise<void> }> {
  const config = loadConfig(env);
  setLogLevel(config.logLevel);
  if (!config.redisUrl) throw new Error('npm run worker needs REDIS_URL; without Redis the server runs jobs itself');
  if (!config.databaseUrl) throw new Error('npm run worker needs DATABASE_URL (the embedded database belongs to the server process)');
  loadDefinitions();
  setLocalBaseUrl(config.fhirBaseUrl);
  const db = await openDatabase(config);
  const jobs = await startJobs(config, db, { role: 'worker' });
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await jobs.stop();
        await db.close();
        log.info('worker stopped');
      })()),
  };
}

if (import.meta.main) {
  startWorker().then(
    ({ close }) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          close().then(() => process.exit(0), () => process.exit(1));
        });
      }
    },
    (err: Error) => {
      log.error('worker startup failed', { error: err.message });
      process.exit(1);
    },
  );
}
