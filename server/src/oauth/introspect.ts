/**
 * RFC 7662 introspection (POST /oauth/introspect, form `token`). The caller authenticates with a
 * valid bearer access token or a backend client assertion. Inactive, unknown, expired and
 * revoked tokens all answer `{ "active": false }` and nothing else.
 */
import type { Request, Response } from 'express';
import type { Database } from '../db/database.ts';
import { authenticateWithAssertion } from './client-auth.ts';
import { bearerToken } from './bearer.ts';
import { OAuthError } from './errors.ts';
import { sha256 } from './secrets.ts';
import { verifyAccessToken, type Issuer } from './tokens.ts';

export interface IntrospectOptions {
  issuer: Issuer;
  tokenUrl: string;
  baseUrl: string;
}

/** Throws invalid_client unless the request carries a valid bearer token or client assertion. */
export async function requireCaller(opts: IntrospectOptions, req: Request, body: Record<string, unknown>): Promise<void> {
  if (body.client_assertion !== undefined) {
    await authenticateWithAssertion(opts.issuer.db, body, opts.tokenUrl, opts.baseUrl);
    return;
  }
  const token = bearerToken(req);
  if (!token) throw new OAuthError('invalid_client', 'Authenticate with a bearer access token or a client assertion');
  await verifyAccessToken(opts.issuer, token).catch(() => {
    throw new OAuthError('invalid_client', 'The bearer token is invalid');
  });
}

async function refreshInfo(db: Database, token: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<{ client_id: string; account_id: string; scope: string; patient: string | null; exp: number; fhir_user: string | null }>(
    `SELECT r.client_id, r.account_id, r.scope, r.patient, extract(epoch FROM r.expires_at)::bigint AS exp, a.fhir_user
       FROM oauth_refresh r JOIN account a ON a.id = r.account_id
      WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now()
        AND NOT EXISTS (SELECT 1 FROM oauth_revocation v WHERE v.id = r.family_id AND v.expires_at > now())`,
    [sha256(token)],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { active: true, token_type: 'refresh_token', client_id: r.client_id, sub: r.account_id, scope: r.scope, exp: Number(r.exp), fhirUser: r.fhir_user ?? undefined, patient: r.patient ?? undefined };
}

export async function handleIntrospect(opts: IntrospectOptions, req: Request, res: Response): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  await requireCaller(opts, req, body);
  const token = body.token;
  if (typeof token !== 'string' || !token) throw new OAuthError('invalid_request', 'token is required');
  res.setHeader('cache-control', 'no-store');
  if (body.token_type_hint !== 'refresh_token' || token.split('.').length === 3) {
    try {
      const c = await verifyAccessToken(opts.issuer, token);
      res.json({
        active: true, token_type: 'Bearer', scope: c.scope, client_id: c.client_id, sub: c.sub, exp: c.exp, iat: c.iat,
        iss: c.iss, aud: c.aud, fhirUser: c.fhirUser, patient: c.patient, encounter: c.encounter,
      });
      return;
    } catch {
      // not a (valid) access token: maybe a refresh token
    }
  }
  res.json((await refreshInfo(opts.issuer.db, token)) ?? { active: false });
}
