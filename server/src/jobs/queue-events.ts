/** The `events` queue: the outbox's BullMQ side. Its worker fans each event out to deliveries. */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { eventKey, targetKey, type ChangeEvent } from './events.ts';
import type { Queryable } from '../db/database.ts';
import { deleteEvents, type OutboxRow } from './outbox.ts';
import { deadLetterJob, jobId, QUEUE_NAMES, workerOptions, type Queues } from './queues.ts';
import type { JobServices } from './services.ts';
import { fanOut } from './targets.ts';

function eventOf(row: OutboxRow): ChangeEvent {
  return { type: row.type, id: row.id, version: row.version, method: row.method, lastUpdated: row.lastUpdated };
}

/**
 * Dispatcher sink: adds one job per event, then deletes the events from the outbox. A crash in
 * between re-adds them after the lease, and the job id makes a re-added event a no-op.
 */
export function bullmqSink(queues: Queues, db: Queryable) {
  return async (rows: OutboxRow[]): Promise<void> => {
    await queues.events.addBulk(rows.map((r) => ({ name: 'event', data: eventOf(r), opts: { jobId: jobId('ev', eventKey(r)) } })));
    await deleteEvents(db, rows.map((r) => r.seq));
  };
}

export function startEventsWorker(svc: JobServices, queues: Queues, connection: Redis): Worker {
  const worker = new Worker<ChangeEvent>(
    QUEUE_NAMES.events,
    async (job: Job<ChangeEvent>) => {
      const targets = await fanOut(svc, job.data);
      if (targets.length === 0) return;
      const key = eventKey(job.data);
      await queues.deliveries.addBulk(
        targets.map((target) => ({ name: 'deliver', data: { event: job.data, target }, opts: { jobId: jobId('dl', `${key}|${targetKey(target)}`) } })),
      );
    },
    workerOptions(svc.config, connection, 16),
  );
  worker.on('failed', (job, err) => {
    if (job) void deadLetterJob(svc.db, QUEUE_NAMES.events, job, err);
  });
  worker.on('error', () => undefined); // connection errors: ioredis reconnects
  return worker;
}
