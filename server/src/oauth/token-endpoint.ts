/**
 * POST /oauth/token: the authorization_code (with PKCE S256), refresh_token (rotation, reuse
 * detection) and client_credentials (private_key_jwt) grants. Every failure is an OAuth error
 * JSON body; every success carries `cache-control: no-store`.
 */
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { findAccountById, type Account } from '../accounts/store.ts';
import { parseScope, scopeCovered, splitScopes } from '../access/scopes.ts';
import { authenticateWithAssertion } from './client-auth.ts';
import { findClient, type Client } from './clients.ts';
import { OAuthError } from './errors.ts';
import { safeEqual, sha256 } from './secrets.ts';
import { createRefreshToken, revokeFamily, signAccessToken, signIdToken, useRefreshToken, type Issuer, type RefreshGrant } from './tokens.ts';

export interface TokenEndpointOptions {
  issuer: Issuer;
  tokenUrl: string;
  baseUrl: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 4096 ? v : undefined);

export async function handleToken(opts: TokenEndpointOptions, req: Request, res: Response): Promise<void> {
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const grant = str(body.grant_type);
  let result: Record<string, unknown>;
  if (grant === 'authorization_code') result = await codeGrant(opts, body);
  else if (grant === 'refresh_token') result = await refreshGrant(opts, body);
  else if (grant === 'client_credentials') result = await clientCredentialsGrant(opts, body);
  else if (!grant) throw new OAuthError('invalid_request', 'grant_type is required');
  else throw new OAuthError('unsupported_grant_type', `grant_type ${grant} is not supported`);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('pragma', 'no-cache');
  res.json(result);
}

async function publicClient(opts: TokenEndpointOptions, body: Record<string, unknown>): Promise<Client> {
  const client = await findClient(opts.issuer.db, body.client_id, opts.baseUrl);
  if (!client || client.kind !== 'public') throw new OAuthError('invalid_client', 'Unknown client_id');
  return client;
}

/** The token response for a user grant (code or refresh): access token, id token, context. */
async function userTokens(opts: TokenEndpointOptions, client: Client, account: Account, g: RefreshGrant, refresh: string | undefined): Promise<Record<string, unknown>> {
  const scopes = g.scope.split(' ');
  const { token, expiresIn } = await signAccessToken(opts.issuer, {
    sub: account.id,
    client_id: client.clientId,
    scope: g.scope,
    fhirUser: account.fhirUser ?? undefined,
    role: account.role,
    patient: g.patient ?? undefined,
    encounter: g.encounter ?? undefined,
    sid: g.familyId,
  });
  const out: Record<string, unknown> = { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: g.scope };
  if (scopes.includes('openid') && (scopes.includes('fhirUser') || scopes.includes('profile'))) {
    out.id_token = await signIdToken(opts.issuer, { sub: account.id, aud: client.clientId, fhirUser: account.fhirUser ?? undefined, name: account.fullName || undefined });
  }
  if (refresh) out.refresh_token = refresh;
  if (g.patient) {
    out.patient = g.patient;
    out.need_patient_banner = true;
  }
  if (g.encounter) out.encounter = g.encounter;
  return out;
}

const wantsRefresh = (scope: string) => scope.split(' ').some((s) => s === 'offline_access' || s === 'online_access');

async function codeGrant(opts: TokenEndpointOptions, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const client = await publicClient(opts, body);
  const code = str(body.code);
  const verifier = str(body.code_verifier);
  if (!code) throw new OAuthError('invalid_request', 'code is required');
  if (!verifier || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) throw new OAuthError('invalid_request', 'code_verifier (43–128 characters) is required: PKCE is mandatory');
  const db = opts.issuer.db;
  // Failures that must stick (a replayed code revokes its family; a failed exchange burns the
  // code) are returned, not thrown, so the transaction commits them.
  const outcome = await db.transaction(async (tx): Promise<{ tokens: Record<string, unknown> } | { error: string }> => {
    const { rows } = await tx.query<{ client_id: string; account_id: string; scope: string; redirect_uri: string; code_challenge: string; patient: string | null; encounter: string | null; family_id: string; expired: boolean; used: boolean }>(
      `SELECT client_id, account_id, scope, redirect_uri, code_challenge, patient, encounter, family_id,
              expires_at <= now() AS expired, used_at IS NOT NULL AS used
         FROM oauth_code WHERE code_hash = $1 FOR UPDATE`,
      [sha256(code)],
    );
    const c = rows[0];
    if (!c || c.client_id !== client.clientId) return { error: 'Unknown authorization code' };
    if (c.used) {
      // A code used twice was intercepted: revoke what the first use obtained.
      await revokeFamily(tx, c.family_id);
      return { error: 'Authorization code already used; tokens issued for it are revoked' };
    }
    await tx.query('UPDATE oauth_code SET used_at = now() WHERE code_hash = $1', [sha256(code)]);
    if (c.expired) return { error: 'Authorization code expired' };
    if (body.redirect_uri !== c.redirect_uri) return { error: 'redirect_uri does not match the authorization request' };
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!safeEqual(challenge, c.code_challenge)) return { error: 'code_verifier does not match code_challenge' };
    const account = await findAccountById(tx, c.account_id);
    if (!account) return { error: 'The account no longer exists' };
    const g: RefreshGrant = { familyId: c.family_id, clientId: client.clientId, accountId: account.id, scope: c.scope, patient: c.patient, encounter: c.encounter };
    const refresh = wantsRefresh(c.scope) ? await createRefreshToken(tx, g, c.scope.split(' ').includes('offline_access')) : undefined;
    return { tokens: await userTokens(opts, client, account, g, refresh) };
  });
  if ('error' in outcome) throw new OAuthError('invalid_grant', outcome.error);
  return outcome.tokens;
}

async function refreshGrant(opts: TokenEndpointOptions, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  // Public clients need not name themselves on refresh (fhirclient does not): the token knows its client.
  const token = str(body.refresh_token);
  const clientId = body.client_id === undefined && token ? await refreshClientOf(opts.issuer.db, token) : body.client_id;
  const client = await publicClient(opts, { client_id: clientId });
  if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const db = opts.issuer.db;
  // Reuse detection must commit its revocation even though the request fails: decide inside, throw outside.
  const outcome = await db.transaction(async (tx) => {
    const use = await useRefreshToken(tx, token, client.clientId);
    if (!use.ok) return { error: use.reason };
    let scope = use.grant.scope;
    const asked = splitScopes(body.scope);
    if (asked.length) {
      const had = new Set(scope.split(' '));
      const extra = asked.filter((s) => !had.has(s));
      if (extra.length) return { error: 'scope' as const, extra };
      scope = asked.join(' ');
    }
    const account = await findAccountById(tx, use.grant.accountId);
    if (!account) return { error: 'unknown' as const };
    const g = { ...use.grant, scope };
    const refresh = await createRefreshToken(tx, g, use.offline);
    return { tokens: await userTokens(opts, client, account, g, refresh) };
  });
  if ('tokens' in outcome) return outcome.tokens as Record<string, unknown>;
  if (outcome.error === 'scope') throw new OAuthError('invalid_scope', 'A refresh may only narrow the granted scopes');
  if (outcome.error === 'reused') throw new OAuthError('invalid_grant', 'Refresh token already used; its whole token family has been revoked');
  if (outcome.error === 'expired') throw new OAuthError('invalid_grant', 'Refresh token expired');
  throw new OAuthError('invalid_grant', 'Unknown refresh token');
}

async function refreshClientOf(db: Database, token: string): Promise<string | undefined> {
  const { rows } = await db.query<{ client_id: string }>('SELECT client_id FROM oauth_refresh WHERE token_hash = $1', [sha256(token)]);
  return rows[0]?.client_id;
}

async function clientCredentialsGrant(opts: TokenEndpointOptions, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const client = await authenticateWithAssertion(opts.issuer.db, body, opts.tokenUrl, opts.baseUrl);
  const asked = splitScopes(body.scope);
  const requested = asked.length ? asked : [...(client.scope ?? [])];
  const bad = requested.filter((s) => parseScope(s)?.context !== 'system' || (client.scope && !scopeCovered(s, client.scope)));
  if (bad.length || requested.length === 0) {
    throw new OAuthError('invalid_scope', requested.length ? `Scopes not allowed for this client: ${bad.join(' ')}` : 'No scope requested');
  }
  const scope = requested.join(' ');
  const { token, expiresIn } = await signAccessToken(opts.issuer, { sub: client.clientId, client_id: client.clientId, scope });
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope };
}
