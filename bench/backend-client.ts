/**
 * An external EHR for the benchmarks: a SMART backend-services client registered in the bench
 * database with its own RS384 key, which gets its access token from the real token endpoint
 * (client_credentials with a signed client assertion). Requests that carry the token take the
 * path EHRs take: token verification, the SMART and CARE policies, and the audit trail.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { PostgresDatabase } from '../server/src/db/postgres.ts';
import { insertClient } from '../server/src/oauth/clients.ts';
import type { BenchServer } from './harness.ts';

/** Registers a backend client allowed `scope` and returns an access token granted to it. */
export async function backendAccessToken(server: BenchServer, scope: string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS384');
  const kid = randomUUID();
  const db = new PostgresDatabase(server.databaseUrl, 1);
  let clientId: string;
  try {
    const client = await insertClient(db, {
      name: 'Bench EHR',
      kind: 'backend',
      redirectUris: [],
      scope: scope.split(' '),
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS384' }] },
    });
    clientId = client.clientId;
  } finally {
    await db.close();
  }
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS384', kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${server.url}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + 240)
    .setJti(randomUUID())
    .sign(privateKey);
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`the token endpoint refused the bench client: ${res.status} ${body.error_description ?? ''}`);
  return body.access_token;
}
