/**
 * Password checks with lockout: after MAX_FAILURES wrong passwords in a row an account is locked
 * for LOCK_MINUTES; a correct password resets the counter. Unknown e-mails cost the same time as
 * known ones (a dummy hash is verified), so responses do not reveal which e-mails exist.
 */
import type { Queryable } from '../db/database.ts';
import { dummyHash, verifyPassword } from './password.ts';
import { findAccountByEmail, passwordHashOf, type Account } from './store.ts';

export const MAX_FAILURES = 5;
export const LOCK_MINUTES = 15;

export type AuthResult =
  | { ok: true; account: Account }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; until: Date }
  | { ok: false; reason: 'unverified' };

export async function authenticate(q: Queryable, email: string, password: string): Promise<AuthResult> {
  const account = await findAccountByEmail(q, email);
  if (!account) {
    await verifyPassword(await dummyHash(), password);
    return { ok: false, reason: 'invalid' };
  }
  if (account.lockedUntil && account.lockedUntil.getTime() > Date.now()) {
    return { ok: false, reason: 'locked', until: account.lockedUntil };
  }
  const stored = await passwordHashOf(q, account.id);
  if (!stored || !(await verifyPassword(stored, password))) {
    const until = await recordFailure(q, account.id);
    return until ? { ok: false, reason: 'locked', until } : { ok: false, reason: 'invalid' };
  }
  if (!account.emailVerified) return { ok: false, reason: 'unverified' };
  if (account.failedAttempts > 0 || account.lockedUntil) await resetFailures(q, account.id);
  return { ok: true, account };
}

/** Counts one failure (atomically); returns the lock's end when this failure locks the account. */
export async function recordFailure(q: Queryable, id: string): Promise<Date | undefined> {
  const { rows } = await q.query<{ lockedUntil: Date | null }>(
    `UPDATE account SET
       failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
       locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END
     WHERE id = $1 RETURNING locked_until AS "lockedUntil"`,
    [id, MAX_FAILURES, LOCK_MINUTES],
  );
  const until = rows[0]?.lockedUntil;
  return until && until.getTime() > Date.now() ? until : undefined;
}

export async function resetFailures(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE account SET failed_attempts = 0, locked_until = NULL WHERE id = $1', [id]);
}
