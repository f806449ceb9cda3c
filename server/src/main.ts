/**
 * Entry point: read configuration, open the database (migrating it), start HTTP, and shut down
 * symmetrically on SIGINT/SIGTERM.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/connect.ts';
import { startJobs } from './jobs/runtime.ts';
import { closeValidationPool, configureValidationThreads } from './fhir/validate-pool.ts';
import { log, setLogLevel } from './log.ts';
import type { Database } from './db/database.ts';
import { startSlotHorizon } from './scheduling/horizon.ts';
import { configureScheduling } from './scheduling/settings.ts';
import { isEmptyDatabase, loadDemoData } from '../../seed/load.ts';
import { attachSubscriptionWebsocket } from './subscriptions/websocket.ts';
import { forkWorkers, runsSingletonTasks, webConcurrency } from './cluster.ts';

/** Migrations (in openDatabase) and, on an empty database, the demo data: done once per start. */
async function prepareDatabase(env: NodeJS.ProcessEnv, db: Database): Promise<void> {
  if ((env.SEED_DEMO ?? '').trim().toLowerCase() !== 'off' && (await isEmptyDatabase(db))) {
    log.info('empty database: loading the demo data (SEED_DEMO=off skips this)');
    log.info('demo data loaded', { ...(await loadDemoData(db)) });
  }
}

function configure(env: NodeJS.ProcessEnv, config: ReturnType<typeof loadConfig>): void {
  configureScheduling({ timeZone: config.clinicTimeZone, videoBaseUrl: (env.VIDEO_BASE_URL || 'https://meet.jit.si').replace(/\/+$/, ''), bookingAppUrl: `${config.baseUrl}/apps/booking/` });
  configureValidationThreads(config.validationThreads);
}

export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<{ server: http.Server; close: () => Promise<void>; url: string }> {
  const config = loadConfig(env);
  setLogLevel(config.logLevel);
  const db = await openDatabase(config);
  configure(env, config);
  await prepareDatabase(env, db);
  const stopSlotHorizon = runsSingletonTasks(env) ? startSlotHorizon(db) : () => undefined;
  const app = createApp(config, db);
  const server = http.createServer(app.express);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, () => resolve());
  });
  // Background jobs (in-process without Redis; the BullMQ dispatcher with it) and the websocket channel.
  const jobs = await startJobs(config, db, { role: 'server' });
  const websocket = attachSubscriptionWebsocket(server, jobs.broadcaster, { db, issuer: app.auth.issuer, authRequired: config.authRequired });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info('server started', { port, database: db.kind, fhirBase: config.fhirBaseUrl });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await websocket.close();
      await jobs.stop();
      // Buffered read audits are written before the database closes.
      await app.care.audit.flush();
      stopSlotHorizon();
      await closeValidationPool();
      await db.close();
      log.info('server stopped');
    })());
  return { server, close, url: `http://localhost:${port}` };
}

/** The primary of a multi-process server: prepares the database once, then forks the workers. */
async function startPrimary(workers: number): Promise<void> {
  const config = loadConfig(process.env);
  setLogLevel(config.logLevel);
  const db = await openDatabase(config);
  configure(process.env, config);
  await prepareDatabase(process.env, db);
  await db.close();
  log.info('starting server workers', { workers });
  forkWorkers(workers);
}

if (import.meta.main && cluster.isPrimary && webConcurrency(process.env) > 1) {
  startPrimary(webConcurrency(process.env)).catch((err: Error) => {
    log.error('startup failed', { error: err.message });
    process.exit(1);
  });
} else if (import.meta.main) {
  let started = false;
  // Node exits quietly when a startup step waits on something that can never happen (nothing
  // left to run); say so instead of ending without a word.
  process.on('exit', (code) => {
    if (!started && code === 0) {
      log.error('startup never finished: a startup step is waiting for something that cannot happen');
      process.exitCode = 1;
    }
  });
  startServer().then(
    ({ close }) => {
      started = true;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          close().then(() => process.exit(0), (err) => {
            log.error('shutdown failed', { error: String(err) });
            process.exit(1);
          });
        });
      }
    },
    (err: Error) => {
      log.error('startup failed', { error: err.message });
      process.exit(1);
    },
  );
}
