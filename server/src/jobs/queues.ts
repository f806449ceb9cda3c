/**
 * The BullMQ queues, their job options and the worker options shared by all of them:
 *   deliveries — one job per (event, target), added by the dispatcher after fan-out
 *                (queue-events.ts); does the work (queue-deliveries.ts)
 *   schedule   — repeating jobs from job schedulers, e.g. the reminder scan (queue-schedule.ts)
 * Job ids derive from the event (and target), so handing the same event on twice adds nothing.
 */
import { createHash } from 'node:crypto';
import { Queue, type JobsOptions, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { log } from '../log.ts';
import { deadLetter } from './outbox.ts';

export const QUEUE_NAMES = { deliveries: 'deliveries', schedule: 'schedule' } as const;

export function redisConnection(url: string): Redis {
  // BullMQ workers block on Redis: requests must wait for reconnection rather than fail.
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** A BullMQ-safe job id (no ':'), stable for the same key. */
export function jobId(prefix: string, key: string): string {
  return `${prefix}-${createHash('sha1').update(key).digest('hex')}`;
}

export function jobOptions(config: Config): JobsOptions {
  return {
    attempts: config.jobs.attempts,
    backoff: { type: 'exponential', delay: config.jobs.backoffMs },
    // Completed jobs are kept briefly (they carry the resource); failed ones for a week.
    removeOnComplete: { age: 600, count: 5_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export function workerOptions(config: Config, connection: Redis, concurrency: number): WorkerOptions {
  return {
    connection,
    prefix: config.jobs.queuePrefix,
    concurrency,
    lockDuration: config.jobs.lockMs,
    stalledInterval: Math.max(500, Math.floor(config.jobs.lockMs / 2)),
    // A job whose worker dies is retried, however often that happens; failures count attempts.
    maxStalledCount: 1000,
  };
}

export interface Queues {
  deliveries: Queue;
  schedule: Queue;
  close(): Promise<void>;
}

export function openQueues(config: Config, connection: Redis): Queues {
  const open = (name: string) => new Queue(name, { connection, prefix: config.jobs.queuePrefix, defaultJobOptions: jobOptions(config) });
  const queues = { deliveries: open(QUEUE_NAMES.deliveries), schedule: open(QUEUE_NAMES.schedule) };
  return {
    ...queues,
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}

/** Records a job that used up its attempts in job_dead_letter (BullMQ keeps it as failed too). */
export async function deadLetterJob(db: Database, queue: string, job: { id?: string; data: unknown; attemptsMade: number; opts: JobsOptions }, error: Error): Promise<void> {
  if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
  log.error('job dead-lettered after its last attempt', { queue, job: job.id, attempts: job.attemptsMade });
  await deadLetter(db, { queue, key: job.id ?? '', data: job.data, error: error.message, attempts: job.attemptsMade }).catch((err) =>
    log.error('dead-letter write failed', { error: (err as Error).message }),
  );
}
