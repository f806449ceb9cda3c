/**
 * The outbox's BullMQ side: the dispatcher's sink. For each claimed batch it fans the events out
 * (fanOutBatch: a constant number of queries per batch), adds its `deliveries` jobs with a single
 * addBulk (per event: one for the platform handlers and bots, one per Subscription), then deletes the events from the outbox. A crash in between
 * re-adds them after the lease, and the job ids (derived from event and target) make a re-added
 * job a no-op. An event whose fan-out keeps failing is retried with backoff from the outbox and
 * dead-lettered after JOB_ATTEMPTS claims, like any job.
 */
import { log } from '../log.ts';
import { eventKey, targetKey, type ChangeEvent } from './events.ts';
import { backoffDelay, deadLetter, deleteEvents, retryLater, type OutboxRow } from './outbox.ts';
import type { DeliveryJob } from './queue-deliveries.ts';
import { jobId, type Queues } from './queues.ts';
import type { JobServices } from './services.ts';
import { fanOutBatch } from './targets.ts';

export function eventOf(row: OutboxRow): ChangeEvent {
  return { type: row.type, id: row.id, version: row.version, method: row.method, lastUpdated: row.lastUpdated };
}

async function handOn(svc: JobServices, queues: Queues, rows: OutboxRow[]): Promise<void> {
  const fanned = await fanOutBatch(svc, rows);
  const jobs = rows.flatMap((row, n) => {
    // The platform's own handlers and bots (idempotent database work) share one job per event;
    // each Subscription (an outside endpoint, with its own failures and backoff) gets its own.
    const own = fanned[n].targets.filter((t) => t.kind !== 'subscription');
    const groups = [...(own.length ? [own] : []), ...fanned[n].targets.filter((t) => t.kind === 'subscription').map((t) => [t])];
    return groups.map((targets) => ({
      name: 'deliver',
      data: { event: eventOf(row), targets, content: fanned[n].content } satisfies DeliveryJob,
      opts: { jobId: jobId('dl', `${eventKey(row)}|${targets.map(targetKey).join(',')}`) },
    }));
  });
  if (jobs.length) await queues.deliveries.addBulk(jobs);
  await deleteEvents(svc.db, rows.map((r) => r.seq));
}

/** Failure of a whole batch: hand the events on one by one, so one bad event holds up no other. */
export async function handOnEach(
  svc: JobServices,
  rows: OutboxRow[],
  one: (row: OutboxRow) => Promise<void>,
  queue: string,
  onDead?: (row: OutboxRow, error: string) => Promise<void>,
): Promise<void> {
  for (const row of rows) {
    try {
      await one(row);
    } catch (err) {
      const error = (err as Error).message;
      if (row.attempts >= svc.config.jobs.attempts) {
        log.error('event dead-lettered after its last attempt', { event: eventKey(row), attempts: row.attempts });
        await deadLetter(svc.db, { queue, key: eventKey(row), data: eventOf(row), error, attempts: row.attempts });
        await deleteEvents(svc.db, [row.seq]);
        await onDead?.(row, error);
      } else {
        log.warn('event failed; will retry', { event: eventKey(row), attempt: row.attempts, error });
        await retryLater(svc.db, row.seq, backoffDelay(svc.config.jobs.backoffMs, row.attempts), error);
      }
    }
  }
}

export function bullmqSink(svc: JobServices, queues: Queues) {
  return async (rows: OutboxRow[]): Promise<void> => {
    try {
      await handOn(svc, queues, rows);
    } catch (err) {
      if (rows.length === 1) return handOnEach(svc, rows, () => Promise.reject(err), 'events');
      await handOnEach(svc, rows, (row) => handOn(svc, queues, [row]), 'events');
    }
  };
}
