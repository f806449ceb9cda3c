/**
 * RFC 7591 dynamic registration (POST /oauth/register), allowed only with the bearer token of an
 * `admin` user. Registers public clients (authorization code + PKCE, `token_endpoint_auth_method`
 * "none", redirect URIs) and backend services (`private_key_jwt` with `jwks` or `jwks_uri`).
 */
import type { Request, Response } from 'express';
import { isKnownScope, parseScope, splitScopes } from '../access/scopes.ts';
import { bearerToken } from './bearer.ts';
import { insertClient } from './clients.ts';
import { OAuthError } from './errors.ts';
import type { Issuer } from './tokens.ts';
import { verifyAccessToken } from './tokens.ts';

const bad = (why: string) => new OAuthError('invalid_client_metadata', why);

function httpsOrLocal(uri: unknown): uri is string {
  if (typeof uri !== 'string' || uri.length > 2000) return false;
  try {
    const u = new URL(uri);
    if (u.hash) return false;
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

export async function handleRegister(issuer: Issuer, req: Request, res: Response): Promise<void> {
  const token = bearerToken(req);
  if (!token) throw new OAuthError('invalid_token', 'Registration needs the bearer token of an admin user');
  const claims = await verifyAccessToken(issuer, token).catch(() => {
    throw new OAuthError('invalid_token', 'The bearer token is invalid');
  });
  if (claims.role !== 'admin') throw new OAuthError('insufficient_scope', 'Only admin users may register clients');

  const m = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const method = m.token_endpoint_auth_method ?? 'none';
  const name = typeof m.client_name === 'string' && m.client_name.trim() ? m.client_name.trim().slice(0, 200) : 'Unnamed client';
  const scope = splitScopes(m.scope);
  const unknown = scope.filter((s) => !isKnownScope(s));
  if (unknown.length) throw bad(`Unknown scope(s): ${unknown.join(' ')}`);

  if (method === 'none') {
    const uris = m.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || !uris.every(httpsOrLocal)) throw bad('redirect_uris must be a non-empty list of https (or localhost) URLs without fragments');
    const grants = (m.grant_types as unknown[] | undefined) ?? ['authorization_code'];
    if (!Array.isArray(grants) || grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) throw bad('public clients may use authorization_code and refresh_token only');
    if (scope.some((s) => parseScope(s)?.context === 'system')) throw bad('public clients cannot have system/ scopes');
    const c = await insertClient(issuer.db, { name, kind: 'public', redirectUris: uris as string[], scope: scope.length ? scope : undefined });
    res.status(201).setHeader('cache-control', 'no-store').json({
      client_id: c.clientId, client_id_issued_at: Math.floor(Date.now() / 1000), client_name: name, redirect_uris: c.redirectUris,
      token_endpoint_auth_method: 'none', grant_types: grants, response_types: ['code'], scope: scope.join(' ') || undefined,
    });
    return;
  }
  if (method !== 'private_key_jwt') throw bad('token_endpoint_auth_method must be none or private_key_jwt');
  const jwks = m.jwks as { keys?: unknown } | undefined;
  const jwksUri = m.jwks_uri;
  if ((jwks === undefined) === (jwksUri === undefined)) throw bad('a backend client needs exactly one of jwks and jwks_uri');
  if (jwks !== undefined && (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0 || jwks.keys.some((k) => !k || typeof k !== 'object' || 'd' in k))) {
    throw bad('jwks must hold public keys only');
  }
  if (jwksUri !== undefined && !httpsOrLocal(jwksUri)) throw bad('jwks_uri must be an https URL');
  if (scope.length === 0 || scope.some((s) => parseScope(s)?.context !== 'system')) throw bad('a backend client needs system/ scopes only');
  const c = await insertClient(issuer.db, {
    name, kind: 'backend', redirectUris: [], scope, jwks: jwks as { keys: never[] } | undefined, jwksUri: jwksUri as string | undefined,
  });
  res.status(201).setHeader('cache-control', 'no-store').json({
    client_id: c.clientId, client_id_issued_at: Math.floor(Date.now() / 1000), client_name: name,
    token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], scope: scope.join(' '),
    ...(jwks ? { jwks } : { jwks_uri: jwksUri }),
  });
}
