/**
 * RFC 7009 revocation (POST /oauth/revoke, form `token`, optional `token_type_hint`). A refresh
 * token revokes its whole family (and the access tokens issued from it); an access token is
 * revoked by its jti. Public clients identify themselves with `client_id`; backend clients with
 * an assertion. Unknown tokens still answer 200, as the RFC requires.
 */
import type { Request, Response } from 'express';
import { authenticateWithAssertion } from './client-auth.ts';
import { findClient } from './clients.ts';
import { OAuthError } from './errors.ts';
import type { IntrospectOptions } from './introspect.ts';
import { sha256 } from './secrets.ts';
import { revoke, revokeFamily, verifyAccessToken } from './tokens.ts';

export async function handleRevoke(opts: IntrospectOptions, req: Request, res: Response): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const db = opts.issuer.db;
  const clientId = body.client_assertion !== undefined
    ? (await authenticateWithAssertion(db, body, opts.tokenUrl, opts.baseUrl)).clientId
    : (await findClient(db, body.client_id, opts.baseUrl))?.clientId;
  if (!clientId) throw new OAuthError('invalid_client', 'Identify the client with client_id or a client assertion');
  const token = body.token;
  if (typeof token !== 'string' || !token) throw new OAuthError('invalid_request', 'token is required');
  res.setHeader('cache-control', 'no-store');

  const { rows } = await db.query<{ family_id: string; client_id: string }>('SELECT family_id, client_id FROM oauth_refresh WHERE token_hash = $1', [sha256(token)]);
  if (rows[0]) {
    if (rows[0].client_id === clientId) await revokeFamily(db, rows[0].family_id);
    res.status(200).end();
    return;
  }
  if (token.split('.').length === 3) {
    try {
      // Only tokens we signed, for this client; revoking by jti outlives the token's expiry.
      const claims = await verifyAccessToken(opts.issuer, token);
      if (claims.client_id === clientId) await revoke(db, claims.jti, new Date(claims.exp * 1000));
    } catch {
      // invalid, foreign or already revoked: nothing to do
    }
  }
  res.status(200).end();
}
