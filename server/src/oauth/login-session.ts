/**
 * The state of one browser's login (table oauth_login), bound to that browser by an HttpOnly
 * cookie (stored hashed) and to each form by a CSRF token: a POST must carry the row id and the
 * CSRF token in the form and the matching cookie, or it is refused.
 */
import type { Request, Response } from 'express';
import cookie from 'cookie';
import type { Queryable } from '../db/database.ts';
import { randomToken, safeEqual, sha256 } from './secrets.ts';
import { LOGIN_SECONDS } from './settings.ts';

export const COOKIE = 'smart_login';

/** The validated authorization request we carry through the login pages. */
export interface AuthRequest {
  clientId: string;
  clientName: string;
  firstParty: boolean;
  redirectUri: string;
  state: string;
  scope: string[];
  codeChallenge: string;
  launch?: string;
}

export interface LoginRow {
  id: string;
  csrf: string;
  request: AuthRequest;
  accountId: string | null;
  stage: 'login' | 'code' | 'consent' | 'patient';
  codeHash: string | null;
  codeExpired: boolean;
  codeAttempts: number;
  patient: string | null;
  encounter: string | null;
}

export async function startLogin(q: Queryable, res: Response, request: AuthRequest, secure: boolean): Promise<LoginRow> {
  const id = randomToken(18);
  const secret = randomToken();
  const csrf = randomToken();
  await q.query(
    `INSERT INTO oauth_login (id, cookie_hash, csrf, request, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [id, sha256(secret), csrf, request, LOGIN_SECONDS],
  );
  res.append('set-cookie', cookie.serialize(COOKIE, secret, { httpOnly: true, secure, sameSite: 'lax', path: '/oauth', maxAge: LOGIN_SECONDS }));
  return { id, csrf, request, accountId: null, stage: 'login', codeHash: null, codeExpired: false, codeAttempts: 0, patient: null, encounter: null };
}

/** The login a form POST belongs to, if cookie, CSRF token and expiry all check out. */
export async function loginOf(q: Queryable, req: Request): Promise<LoginRow | undefined> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const secret = cookie.parse(req.headers.cookie ?? '')[COOKIE];
  if (typeof body.request !== 'string' || typeof body.csrf !== 'string' || !secret) return undefined;
  const { rows } = await q.query<{ id: string; cookie_hash: string; csrf: string; request: AuthRequest; account_id: string | null; stage: LoginRow['stage']; code_hash: string | null; code_expired: boolean; code_attempts: number; patient: string | null; encounter: string | null }>(
    `SELECT id, cookie_hash, csrf, request, account_id, stage, code_hash, coalesce(code_expires <= now(), false) AS code_expired,
            code_attempts, patient, encounter
       FROM oauth_login WHERE id = $1 AND expires_at > now()`,
    [body.request],
  );
  const r = rows[0];
  if (!r || !safeEqual(r.cookie_hash, sha256(secret)) || !safeEqual(r.csrf, body.csrf)) return undefined;
  return {
    id: r.id, csrf: r.csrf, request: r.request, accountId: r.account_id, stage: r.stage, codeHash: r.code_hash,
    codeExpired: r.code_expired, codeAttempts: r.code_attempts, patient: r.patient, encounter: r.encounter,
  };
}

export async function updateLogin(q: Queryable, id: string, fields: Partial<{ account_id: string; stage: LoginRow['stage']; code_hash: string | null; code_expires: Date | null; code_attempts: number; patient: string | null; encounter: string | null }>): Promise<void> {
  const keys = Object.keys(fields);
  if (!keys.length) return;
  // Column names come from the fixed key set of `fields`' type, never from input.
  const sets = keys.map((k, i) => `${k} = $${i + 2}`).join(', ');
  await q.query(`UPDATE oauth_login SET ${sets} WHERE id = $1`, [id, ...keys.map((k) => (fields as Record<string, unknown>)[k])]);
}

export async function endLogin(q: Queryable, res: Response, id: string, secure: boolean): Promise<void> {
  await q.query('DELETE FROM oauth_login WHERE id = $1 OR expires_at < now()', [id]);
  res.append('set-cookie', cookie.serialize(COOKIE, '', { httpOnly: true, secure, sameSite: 'lax', path: '/oauth', maxAge: 0 }));
}
