/**
 * In-process runner (no Redis): the outbox is the queue. Each claimed batch is fanned out at once
 * (fanOutBatch) and its events delivered here, several at a time; a failure schedules the event
 * again with exponential backoff (the lease keeps it hidden meanwhile), targets that already took
 * effect are skipped on the retry (idempotency), and after JOB_ATTEMPTS attempts the event is
 * dead-lettered. Handled events are deleted together at the end of the batch.
 */
import { targetKey } from './events.ts';
import { deleteEvents, type OutboxRow } from './outbox.ts';
import { markGivenUp } from './queue-deliveries.ts';
import { handOnEach } from './queue-events.ts';
import type { JobServices } from './services.ts';
import { deliver, fanOutBatch, type FannedOut } from './targets.ts';

const CONCURRENCY = 8;

async function handle(svc: JobServices, row: OutboxRow, fanned: FannedOut): Promise<void> {
  const errors: string[] = [];
  for (const target of fanned.targets) {
    try {
      await deliver(svc, row, target, fanned.resource);
    } catch (err) {
      errors.push(`${targetKey(target)}: ${(err as Error).message}`);
    }
  }
  if (errors.length) throw new Error(errors.join('; '));
}

export function inlineSink(svc: JobServices) {
  return async (rows: OutboxRow[]): Promise<void> => {
    let fanned: FannedOut[];
    try {
      fanned = await fanOutBatch(svc, rows);
    } catch {
      // One bad event must not hold up the others: fan out and deliver one by one.
      await handOnEach(svc, rows, async (row) => {
        await handle(svc, row, (await fanOutBatch(svc, [row]))[0]);
        await deleteEvents(svc.db, [row.seq]);
      }, 'inline');
      return;
    }
    const done: number[] = [];
    const failed: { row: OutboxRow; error: Error }[] = [];
    const queue = rows.map((row, n) => ({ row, fanned: fanned[n] }));
    const work = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        try {
          await handle(svc, item.row, item.fanned);
          done.push(item.row.seq);
        } catch (error) {
          failed.push({ row: item.row, error: error as Error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, work));
    await deleteEvents(svc.db, done);
    const targetsOf = new Map(rows.map((row, n) => [row, fanned[n].targets]));
    await handOnEach(svc, failed.map((f) => f.row), async (row) => {
      throw failed.find((f) => f.row === row)?.error;
    }, 'inline', (row, error) =>
      // Only the targets that failed (handle() names each in the error).
      markGivenUp(svc, { event: row, targets: (targetsOf.get(row) ?? []).filter((t) => error.includes(`${targetKey(t)}:`)) }, row.attempts, error));
  };
}
