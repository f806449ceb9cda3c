/**
 * Issuing and verifying our tokens. Access and id tokens are JWTs signed with the database keys
 * (keys.ts); refresh tokens are opaque random strings stored hashed, rotated on every use, with
 * reuse of a rotated token revoking its whole family.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Database, Queryable } from '../db/database.ts';
import type { KeyStore } from './keys.ts';
import { randomToken, sha256 } from './secrets.ts';
import { isRevoked } from './revocation-check.ts';
import { ACCESS_TOKEN_SECONDS, OFFLINE_REFRESH_SECONDS, ONLINE_REFRESH_SECONDS } from './settings.ts';
import { VerifiedTokenCache } from './verified-tokens.ts';

export interface AccessClaims extends JWTPayload {
  sub: string;
  client_id: string;
  scope: string;
  fhirUser?: string;
  role?: string;
  patient?: string;
  encounter?: string;
  /** Token family (one login or one code), so revoking the family revokes its access tokens. */
  sid?: string;
  jti: string;
  exp: number;
}

export interface Issuer {
  /** `iss` of every token: our base URL. */
  issuer: string;
  /** `aud` of access tokens: the FHIR base. */
  audience: string;
  keys: KeyStore;
  db: Database;
}

export async function signAccessToken(iss: Issuer, claims: Omit<AccessClaims, 'jti' | 'exp' | 'iat' | 'iss' | 'aud'>): Promise<{ token: string; expiresIn: number }> {
  const key = await iss.keys.signingKey();
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(iss.issuer)
    .setAudience(iss.audience)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
    .setJti(randomUUID())
    .sign(key.key);
  return { token, expiresIn: ACCESS_TOKEN_SECONDS };
}

export async function signIdToken(iss: Issuer, claims: { sub: string; aud: string; fhirUser?: string; name?: string; email?: string }): Promise<string> {
  const key = await iss.keys.signingKey();
  const { aud, ...rest } = claims;
  return new SignJWT(rest)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(iss.issuer)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
    .sign(key.key);
}

/** Verified tokens, per issuer (test servers in one process each have their own keys). */
const verifiedTokens = new WeakMap<Issuer, VerifiedTokenCache>();

/**
 * The claims of a valid access token of ours; throws when the token is malformed, badly signed,
 * expired, signed by a key no longer published, or revoked.
 */
export async function verifyAccessToken(iss: Issuer, token: string): Promise<AccessClaims> {
  let cache = verifiedTokens.get(iss);
  if (!cache) verifiedTokens.set(iss, (cache = new VerifiedTokenCache()));
  let verified = cache.get(token);
  if (verified) {
    if (!(await iss.keys.verificationKey(verified.kid))) throw new Error('unknown signing key');
  } else {
    const { kid } = decodeProtectedHeader(token);
    const key = kid ? await iss.keys.verificationKey(kid) : undefined;
    if (!kid || !key) throw new Error('unknown signing key');
    const { payload } = await jwtVerify(token, key, { issuer: iss.issuer, audience: iss.audience, typ: 'at+jwt', algorithms: ['RS256'] });
    const claims = payload as AccessClaims;
    if (typeof claims.jti !== 'string' || typeof claims.scope !== 'string' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw new Error('malformed token');
    // Shared by every later request with this token: nobody may change it.
    verified = { claims: Object.freeze(claims), kid };
    cache.set(token, verified);
  }
  const { claims } = verified;
  if (await isRevoked(iss.db, [claims.jti, claims.sid].filter((x): x is string => !!x))) throw new Error('token revoked');
  return claims;
}

/** Records a revoked token id or family until `expiresAt` (after which the token is dead anyway). */
export async function revoke(q: Queryable, id: string, expiresAt: Date): Promise<void> {
  await q.query(
    `INSERT INTO oauth_revocation (id, expires_at) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(oauth_revocation.expires_at, EXCLUDED.expires_at)`,
    [id, expiresAt],
  );
}

/** Revokes a family: its refresh tokens are marked used, and its access tokens refused. */
export async function revokeFamily(q: Queryable, familyId: string): Promise<void> {
  await q.query('UPDATE oauth_refresh SET used_at = coalesce(used_at, now()), expires_at = now() WHERE family_id = $1', [familyId]);
  await revoke(q, familyId, new Date(Date.now() + Math.max(OFFLINE_REFRESH_SECONDS, ACCESS_TOKEN_SECONDS) * 1000));
}

export interface RefreshGrant {
  familyId: string;
  clientId: string;
  accountId: string;
  scope: string;
  patient?: string | null;
  encounter?: string | null;
}

export async function createRefreshToken(q: Queryable, g: RefreshGrant, offline: boolean): Promise<string> {
  const token = randomToken();
  await q.query(
    `INSERT INTO oauth_refresh (token_hash, family_id, client_id, account_id, scope, patient, encounter, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
    [sha256(token), g.familyId, g.clientId, g.accountId, g.scope, g.patient ?? null, g.encounter ?? null, offline ? OFFLINE_REFRESH_SECONDS : ONLINE_REFRESH_SECONDS],
  );
  return token;
}

export type RefreshUse =
  | { ok: true; grant: RefreshGrant; offline: boolean }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' | 'client' };

/**
 * Consumes a refresh token (row locked, so two concurrent uses cannot both succeed). A token
 * already used means it leaked or was replayed: the family is revoked.
 */
export async function useRefreshToken(q: Queryable, token: string, clientId: string): Promise<RefreshUse> {
  const { rows } = await q.query<{ family_id: string; client_id: string; account_id: string; scope: string; patient: string | null; encounter: string | null; expired: boolean; used: boolean }>(
    `SELECT family_id, client_id, account_id, scope, patient, encounter, expires_at <= now() AS expired, used_at IS NOT NULL AS used
       FROM oauth_refresh WHERE token_hash = $1 FOR UPDATE`,
    [sha256(token)],
  );
  const r = rows[0];
  if (!r) return { ok: false, reason: 'unknown' };
  if (r.client_id !== clientId) return { ok: false, reason: 'client' };
  if (r.used) {
    await revokeFamily(q, r.family_id);
    return { ok: false, reason: 'reused' };
  }
  if (r.expired) return { ok: false, reason: 'expired' };
  await q.query('UPDATE oauth_refresh SET used_at = now() WHERE token_hash = $1', [sha256(token)]);
  return {
    ok: true,
    offline: r.scope.split(' ').includes('offline_access'),
    grant: { familyId: r.family_id, clientId: r.client_id, accountId: r.account_id, scope: r.scope, patient: r.patient, encounter: r.encounter },
  };
}
