/**
 * In-process runner (no Redis): the outbox is the queue. Each claimed event is fanned out and
 * delivered here; a failure schedules the event again with exponential backoff (the lease keeps
 * it hidden meanwhile), targets that already took effect are skipped on the retry (idempotency),
 * and after JOB_ATTEMPTS attempts the event is dead-lettered.
 */
import { log } from '../log.ts';
import { eventKey, targetKey } from './events.ts';
import { backoffDelay, deadLetter, deleteEvents, retryLater, type OutboxRow } from './outbox.ts';
import type { JobServices } from './services.ts';
import { deliver, fanOut } from './targets.ts';

const CONCURRENCY = 8;

async function handle(svc: JobServices, row: OutboxRow): Promise<void> {
  const errors: string[] = [];
  for (const target of await fanOut(svc, row)) {
    try {
      await deliver(svc, row, target);
    } catch (err) {
      errors.push(`${targetKey(target)}: ${(err as Error).message}`);
    }
  }
  if (errors.length) throw new Error(errors.join('; '));
}

export function inlineSink(svc: JobServices) {
  return async (rows: OutboxRow[]): Promise<void> => {
    const queue = [...rows];
    const work = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          await handle(svc, row);
          await deleteEvents(svc.db, [row.seq]);
        } catch (err) {
          const error = (err as Error).message;
          if (row.attempts >= svc.config.jobs.attempts) {
            log.error('event dead-lettered after its last attempt', { event: eventKey(row), attempts: row.attempts });
            await deadLetter(svc.db, { queue: 'inline', key: eventKey(row), data: row, error, attempts: row.attempts });
            await deleteEvents(svc.db, [row.seq]);
          } else {
            log.warn('event failed; will retry', { event: eventKey(row), attempt: row.attempts });
            await retryLater(svc.db, row.seq, backoffDelay(svc.config.jobs.backoffMs, row.attempts), error);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, work));
  };
}
