/**
 * GET|POST /oauth/authorize: validates the SMART authorization request and shows the login page.
 * An unknown client or an unregistered redirect URI gets an error page (we must not redirect to
 * an unverified URI); every other problem is redirected back with `error` and the `state`.
 */
import type { Request, Response } from 'express';
import type { Database } from '../db/database.ts';
import { NON_RESOURCE_SCOPES, parseScope, scopeCovered, splitScopes } from '../access/scopes.ts';
import { findClient, redirectUriAllowed } from './clients.ts';
import { startLogin, type AuthRequest } from './login-session.ts';
import { errorPage, loginPage } from './pages.ts';

export interface AuthorizeOptions {
  db: Database;
  baseUrl: string;
  fhirBaseUrl: string;
  secureCookies: boolean;
}

export function redirectWith(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  res.redirect(303, url.toString());
}

/** Scopes we can grant to a user through this client: known, not system/, within the client's list. */
export function grantableScopes(requested: string[], clientScopes: string[] | undefined): string[] {
  return requested.filter((s) => {
    const grant = parseScope(s);
    const known = NON_RESOURCE_SCOPES.has(s) || (grant !== undefined && grant.context !== 'system');
    return known && (!clientScopes || scopeCovered(s, clientScopes));
  });
}

export async function handleAuthorize(opts: AuthorizeOptions, req: Request, res: Response): Promise<void> {
  const p = { ...(req.query as Record<string, unknown>), ...(req.method === 'POST' ? (req.body as Record<string, unknown>) : {}) };
  const s = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const client = await findClient(opts.db, s('client_id'), opts.baseUrl);
  if (!client || client.kind !== 'public') {
    res.status(400).type('html').send(errorPage('Unknown client_id: this app is not registered here.'));
    return;
  }
  const redirectUri = s('redirect_uri');
  if (!redirectUriAllowed(client, redirectUri)) {
    res.status(400).type('html').send(errorPage('redirect_uri is not registered for this app.'));
    return;
  }
  const state = s('state');
  const fail = (error: string, description: string) => redirectWith(res, redirectUri, { error, error_description: description, state });
  if (s('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
  if (!state) return fail('invalid_request', 'state is required');
  const challenge = s('code_challenge');
  if (!challenge || !/^[A-Za-z0-9\-_]{43}$/.test(challenge) || s('code_challenge_method') !== 'S256') {
    return fail('invalid_request', 'PKCE is required: code_challenge with code_challenge_method S256');
  }
  if ((s('aud') ?? '').replace(/\/+$/, '') !== opts.fhirBaseUrl) return fail('invalid_request', `aud must be this server's FHIR base URL ${opts.fhirBaseUrl}`);
  const scope = grantableScopes(splitScopes(s('scope')), client.scope);
  if (scope.length === 0) return fail('invalid_scope', 'None of the requested scopes can be granted');
  const launch = s('launch');
  if (launch !== undefined) {
    const { rows } = await opts.db.query('SELECT 1 FROM oauth_launch WHERE id = $1 AND expires_at > now()', [launch]);
    if (!rows.length) return fail('invalid_request', 'Unknown or expired launch');
  }
  const request: AuthRequest = {
    clientId: client.clientId, clientName: client.name, firstParty: client.firstParty, redirectUri, state, scope,
    codeChallenge: challenge, launch,
  };
  const login = await startLogin(opts.db, res, request, opts.secureCookies);
  res.setHeader('cache-control', 'no-store');
  res.type('html').send(loginPage({ request: login.id, csrf: login.csrf, clientName: client.name }));
}
