/**
 * "Never twice": every (event, handler) pair that has taken effect leaves a row in
 * `job_delivery`. `once` commits a handler's database effects in the same transaction as that
 * row, so a retried or duplicated job finds the row and does nothing. External sends, which no
 * transaction can roll back, use `claimSend`/`finishSend` (see notify/sender.ts).
 */
import type { Database, Queryable } from '../db/database.ts';

/**
 * Runs `work` inside a transaction unless (key, handler) already ran; returns whether it ran.
 * A crash before COMMIT loses both the row and the effects, so the next attempt redoes them.
 */
export async function once(db: Database, key: string, handler: string, work: (tx: Queryable) => Promise<void>): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO job_delivery (event_key, handler, status) VALUES ($1, $2, 'done') ON CONFLICT DO NOTHING`,
      [key, handler],
      'jobs_once_claim',
    );
    // A concurrent duplicate blocks on our uncommitted row and then sees the conflict.
    if (rowCount === 0) return false;
    await work(tx);
    return true;
  });
}

export type SendClaim = 'claimed' | 'done' | 'in-doubt';

/**
 * Before an external send: 'claimed' (go ahead), 'done' (already sent), or 'in-doubt' (an
 * earlier attempt died between claiming and finishing: it may or may not have gone out, and
 * sending again could send twice, so callers record the doubt instead of resending).
 */
export async function claimSend(db: Queryable, key: string, handler: string): Promise<SendClaim> {
  const { rowCount } = await db.query(
    `INSERT INTO job_delivery (event_key, handler, status) VALUES ($1, $2, 'sending') ON CONFLICT DO NOTHING`,
    [key, handler],
    'jobs_send_claim',
  );
  if (rowCount === 1) return 'claimed';
  const { rows } = await db.query<{ status: string }>(
    'SELECT status FROM job_delivery WHERE event_key = $1 AND handler = $2',
    [key, handler],
    'jobs_send_status',
  );
  return rows[0]?.status === 'done' ? 'done' : 'in-doubt';
}

export async function finishSend(db: Queryable, key: string, handler: string, detail?: string): Promise<void> {
  await db.query(
    `UPDATE job_delivery SET status = 'done', detail = $3, delivered_at = now() WHERE event_key = $1 AND handler = $2`,
    [key, handler, detail ?? null],
    'jobs_send_finish',
  );
}

/** Forgets a claim whose send failed definitely (nothing went out), so a retry may send. */
export async function releaseSend(db: Queryable, key: string, handler: string): Promise<void> {
  await db.query(`DELETE FROM job_delivery WHERE event_key = $1 AND handler = $2 AND status = 'sending'`, [key, handler]);
}
