/**
 * Access to the outbox table (migration 030). Events are claimed with a lease: the claim commits
 * at once and moves `next_attempt_at` forward, so a process killed while holding events simply
 * lets the lease run out and another dispatcher takes them again. A handled event is deleted.
 */
import type { Queryable } from '../db/database.ts';
import type { ChangeEvent } from './events.ts';

export interface OutboxRow extends ChangeEvent {
  seq: number;
  /** Attempts including the current one. */
  attempts: number;
  /** The version's stored JSON (null for a deletion), when already known; absent when not loaded. */
  content?: string | null;
}

/**
 * Claims up to `limit` due events (oldest first) for `leaseMs`; rows another dispatcher is
 * claiming right now are skipped, not waited for. The due events are picked once, as an array
 * (joined as a subquery, the planner re-ran the locking pick for every claimed row). The versions'
 * content is not read here: most events have no listener, and fanOutBatch loads the rest.
 */
export async function claimDue(db: Queryable, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow & { lastUpdated: Date }>(
    `UPDATE outbox_event o SET attempts = o.attempts + 1,
            next_attempt_at = clock_timestamp() + ($2::int * interval '1 millisecond')
      WHERE o.seq = ANY(ARRAY(SELECT seq FROM outbox_event WHERE next_attempt_at <= clock_timestamp()
              ORDER BY next_attempt_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED))
      RETURNING o.seq, o.res_type AS type, o.res_id AS id, o.version, o.method, o.last_updated AS "lastUpdated", o.attempts`,
    [limit, leaseMs],
    'jobs_outbox_claim_events',
  );
  return rows
    .map((r) => ({ ...r, seq: Number(r.seq), lastUpdated: new Date(r.lastUpdated).toISOString() }))
    .sort((a, b) => a.seq - b.seq);
}

/** Removes handled (or handed-on) events. */
export async function deleteEvents(db: Queryable, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  await db.query('DELETE FROM outbox_event WHERE seq = ANY($1::bigint[])', [seqs], 'jobs_outbox_delete');
}

/** Schedules the next attempt of an event after a failure. */
export async function retryLater(db: Queryable, seq: number, delayMs: number, error: string): Promise<void> {
  await db.query(
    `UPDATE outbox_event SET next_attempt_at = clock_timestamp() + ($2::int * interval '1 millisecond'), last_error = $3 WHERE seq = $1`,
    [seq, Math.round(delayMs), error.slice(0, 2000)],
    'jobs_outbox_retry',
  );
}

/** Number of events not yet handled (for health and tests). */
export async function pendingCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_event');
  return rows[0].n;
}

/** Records a job that failed every attempt, for inspection and replay. */
export async function deadLetter(db: Queryable, entry: { queue: string; key: string; data: unknown; error: string; attempts: number }): Promise<void> {
  await db.query(
    'INSERT INTO job_dead_letter (queue, job_key, data, error, attempts) VALUES ($1, $2, $3, $4, $5)',
    [entry.queue, entry.key, JSON.stringify(entry.data), entry.error.slice(0, 2000), entry.attempts],
  );
}

/** Exponential backoff: `base`, 2·base, 4·base, … capped at one hour, with ±20 % jitter. */
export function backoffDelay(baseMs: number, attempt: number): number {
  const raw = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return raw * (0.8 + Math.random() * 0.4);
}
