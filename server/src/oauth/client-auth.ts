/**
 * private_key_jwt client authentication (SMART Backend Services, RFC 7523): the client signs an
 * assertion with its private key (RS384 or ES384); we verify it against the client's registered
 * JWKS (inline, or by URL with caching), check `aud` is our token endpoint, `exp` at most five
 * minutes ahead, and refuse a `jti` seen before.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Database } from '../db/database.ts';
import { findClient, type Client } from './clients.ts';
import { OAuthError } from './errors.ts';
import { ASSERTION_MAX_SECONDS, JWKS_CACHE_MS } from './settings.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGS = ['RS384', 'ES384'];
/** Clock skew we tolerate on iat/nbf/exp. */
const SKEW_SECONDS = 30;

const remoteSets = new Map<string, { set: JWTVerifyGetKey; at: number }>();

function keySetOf(client: Client): JWTVerifyGetKey {
  if (client.jwks) return createLocalJWKSet(client.jwks);
  const url = client.jwksUri as string;
  const cached = remoteSets.get(url);
  if (cached && Date.now() - cached.at < JWKS_CACHE_MS) return cached.set;
  const set = createRemoteJWKSet(new URL(url), { cacheMaxAge: JWKS_CACHE_MS, timeoutDuration: 5000 });
  remoteSets.set(url, { set, at: Date.now() });
  return set;
}

const bad = (why: string) => new OAuthError('invalid_client', `Client authentication failed: ${why}`);

/** The client a form-encoded token/introspect/revoke request authenticates as with an assertion. */
export async function authenticateWithAssertion(db: Database, body: Record<string, unknown>, tokenEndpoint: string, baseUrl: string): Promise<Client> {
  if (body.client_assertion_type !== ASSERTION_TYPE) throw bad(`client_assertion_type must be ${ASSERTION_TYPE}`);
  const assertion = body.client_assertion;
  if (typeof assertion !== 'string' || assertion.length > 16_384) throw bad('client_assertion is missing');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw bad('client_assertion is not a JWT');
  }
  if (!header.alg || !ASSERTION_ALGS.includes(header.alg)) throw bad(`alg must be one of ${ASSERTION_ALGS.join(', ')}`);
  const client = await findClient(db, claims.iss, baseUrl);
  if (!client || client.kind !== 'backend' || claims.sub !== claims.iss) throw bad('unknown client or iss ≠ sub');
  if (body.client_id !== undefined && body.client_id !== client.clientId) throw bad('client_id does not match the assertion');
  if (header.jku !== undefined && header.jku !== client.jwksUri) throw bad('jku is not the registered JWKS URL');
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number') throw bad('exp is required');
  if (claims.exp > now + ASSERTION_MAX_SECONDS + SKEW_SECONDS) throw bad('exp is more than 5 minutes ahead');
  if (typeof claims.jti !== 'string' || !claims.jti || claims.jti.length > 256) throw bad('jti is required');
  try {
    await jwtVerify(assertion, keySetOf(client), {
      algorithms: ASSERTION_ALGS,
      audience: tokenEndpoint,
      issuer: client.clientId,
      subject: client.clientId,
      clockTolerance: SKEW_SECONDS,
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'ERR_JWT_EXPIRED') throw bad('the assertion has expired');
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw bad(`claim check failed (${(err as { claim?: string }).claim ?? 'claim'})`);
    if (code === 'ERR_JWKS_NO_MATCHING_KEY') throw bad('no registered key matches the assertion');
    throw bad('signature verification failed');
  }
  // Replay: each jti once per client while the assertion could still be valid.
  await db.query('DELETE FROM oauth_assertion_jti WHERE expires_at < now() - interval \'1 minute\'');
  const inserted = await db.query(
    'INSERT INTO oauth_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING',
    [client.clientId, claims.jti, claims.exp + SKEW_SECONDS],
  );
  if (inserted.rowCount === 0) throw bad('this jti was already used');
  return client;
}
