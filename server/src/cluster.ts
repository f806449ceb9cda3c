/**
 * Several server processes on one machine (WEB_CONCURRENCY > 1): the primary prepares the
 * database once (migrations, demo data), then forks workers that share the port and restarts any
 * that die. Only worker 1 runs the once-per-deployment timers (the slot horizon); every worker
 * serves HTTP and dispatches outbox events (leased, so they share the work).
 *
 * Needs PostgreSQL (PGlite is one process only) and Redis (websocket notifications reach clients
 * of every worker through Redis pub/sub); without them the server runs as one process.
 */
import cluster from 'node:cluster';
import { log } from './log.ts';

export function webConcurrency(env: NodeJS.ProcessEnv): number {
  const raw = env.WEB_CONCURRENCY;
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`WEB_CONCURRENCY must be an integer from 1 to 64, not "${raw}"`);
  if (n > 1 && (!env.DATABASE_URL || !env.REDIS_URL)) {
    log.warn('WEB_CONCURRENCY > 1 needs DATABASE_URL and REDIS_URL; running one process');
    return 1;
  }
  return n;
}

/** In the primary: forks `n` workers (worker i gets CLUSTER_WORKER=i) and keeps them running. */
export function forkWorkers(n: number): void {
  let stopping = false;
  const fork = (index: number) => {
    const worker = cluster.fork({ CLUSTER_WORKER: String(index), SEED_DEMO: 'off' });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      log.warn('server worker exited; starting a new one', { index, code, signal });
      setTimeout(() => fork(index), 1000);
    });
  };
  for (let i = 1; i <= n; i++) fork(i);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
      let left = Object.keys(cluster.workers ?? {}).length;
      if (left === 0) process.exit(0);
      cluster.on('exit', () => {
        if (--left === 0) process.exit(0);
      });
    });
  }
}

/** Whether this process runs the once-per-deployment timers. */
export function runsSingletonTasks(env: NodeJS.ProcessEnv): boolean {
  return !env.CLUSTER_WORKER || env.CLUSTER_WORKER === '1';
}
