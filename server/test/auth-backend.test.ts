/**
 * Discovery, JWKS, backend services (client_credentials with private_key_jwt), registration by
 * admins, introspection, revocation and key rotation — against the real app over HTTP.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import {
  assertion, backendKey, clientCredentialsForm, createUser, loginForTokens, tokenRequest, type BackendClient,
} from './auth-helpers.ts';

let server: TestServer;
let adminToken: string;
let rs: BackendClient;
let es: BackendClient;

async function register(body: unknown, token = adminToken) {
  return fetchJson(`${server.url}/oauth/register`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
}
async function form(path: string, f: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(f).toString() });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  const admin = await createUser(server, 'admin');
  adminToken = (await loginForTokens(server, admin, { clientId: 'charting-app', scope: 'openid fhirUser user/*.cruds' })).access_token;
  const rsKey = await backendKey('RS384');
  const reg = await register({ client_name: 'EHR bot', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [rsKey.publicJwk] }, scope: 'system/Patient.rs system/Observation.cruds' });
  expect(reg.status).toBe(201);
  rs = { ...rsKey, clientId: reg.body.client_id };
  const esKey = await backendKey('ES384');
  const reg2 = await register({ client_name: 'ES bot', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [esKey.publicJwk] }, scope: 'system/*.rs' });
  es = { ...esKey, clientId: reg2.body.client_id };
});
afterAll(async () => {
  await server?.close();
});

describe('discovery and keys', () => {
  it('publishes every SMART field, S256 only, with CORS', async () => {
    const res = await fetch(`${server.fhir}/.well-known/smart-configuration`, { headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const conf: any = await res.json();
    for (const k of ['issuer', 'jwks_uri', 'authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'registration_endpoint',
      'grant_types_supported', 'token_endpoint_auth_methods_supported', 'token_endpoint_auth_signing_alg_values_supported', 'scopes_supported', 'response_types_supported', 'capabilities']) {
      expect(conf[k], k).toBeDefined();
    }
    expect(conf.code_challenge_methods_supported).toEqual(['S256']);
    expect(conf.capabilities).toEqual(expect.arrayContaining(['launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-asymmetric', 'context-standalone-patient', 'permission-v2', 'permission-v1', 'sso-openid-connect']));
    expect((await fetchJson(`${server.url}/.well-known/smart-configuration`)).body.token_endpoint).toBe(`${server.url}/oauth/token`);
    const meta = await fetchJson(`${server.fhir}/metadata`);
    expect(meta.status).toBe(200);
    expect(JSON.stringify(meta.body.rest[0].security)).toContain(`${server.url}/oauth/token`);
  });

  it('publishes the signing key in the JWKS, and rotation keeps old tokens valid', async () => {
    const before = (await fetchJson(`${server.url}/oauth/jwks`)).body.keys;
    expect(before).toHaveLength(1);
    expect(before[0]).not.toHaveProperty('d');
    const old = (await tokenRequest(server, clientCredentialsForm(await assertion(server, es), 'system/Patient.rs'))).body.access_token;
    await server.app.auth.keys.rotate(true);
    const after = (await fetchJson(`${server.url}/oauth/jwks`)).body.keys;
    expect(after.map((k: any) => k.kid)).toEqual(expect.arrayContaining(before.map((k: any) => k.kid)));
    expect(after).toHaveLength(2);
    const fresh = (await tokenRequest(server, clientCredentialsForm(await assertion(server, es), 'system/Patient.rs'))).body.access_token;
    expect(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url').toString()).kid).not.toBe(JSON.parse(Buffer.from(old.split('.')[0], 'base64url').toString()).kid);
    for (const t of [old, fresh]) expect((await fetchJson(`${server.fhir}/Patient`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
  });
});

describe('backend services: client_credentials with private_key_jwt', () => {
  it('issues a system token for an RS384 and an ES384 assertion', async () => {
    for (const c of [rs, es]) {
      const res = await tokenRequest(server, clientCredentialsForm(await assertion(server, c), 'system/Patient.rs'));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.rs' });
      expect(res.body.expires_in).toBeGreaterThan(0);
      expect(res.body.refresh_token).toBeUndefined();
      const search = await fetchJson(`${server.fhir}/Patient`, { headers: { authorization: `Bearer ${res.body.access_token}` } });
      expect(search.status).toBe(200);
      const write = await fetchJson(`${server.fhir}/Patient`, { method: 'POST', body: { resourceType: 'Patient' }, headers: { authorization: `Bearer ${res.body.access_token}` } });
      expect(write.status).toBe(403);
    }
  });

  it.each([
    ['a replayed jti', async () => {
      const jti = randomUUID();
      expect((await tokenRequest(server, clientCredentialsForm(await assertion(server, rs, { jti }), 'system/Patient.rs'))).status).toBe(200);
      return assertion(server, rs, { jti });
    }, /jti was already used/],
    ['a wrong aud', () => assertion(server, rs, { aud: `${server.url}/not-the-token-endpoint` }), /claim check failed \(aud\)/],
    ['an expired assertion', () => assertion(server, rs, { exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
    ['an exp more than 5 minutes ahead', () => assertion(server, rs, { exp: Math.floor(Date.now() / 1000) + 3600 }), /more than 5 minutes/],
    ['an unknown key', async () => assertion(server, { ...(await backendKey('RS384')), clientId: rs.clientId }), /no registered key|signature/],
    ['an unknown client', () => assertion(server, rs, { iss: 'no-such-client' }), /unknown client/],
    ['a jku other than the registered JWKS URL', () => assertion(server, rs, { jku: 'https://evil.example/jwks' }), /jku/],
  ])('refuses %s with invalid_client', async (_name, make, why) => {
    const res = await tokenRequest(server, clientCredentialsForm(await make(), 'system/Patient.rs'));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.error_description).toMatch(why);
  });

  it('refuses an HS256 assertion and scopes beyond the registration', async () => {
    const bad = await tokenRequest(server, clientCredentialsForm('eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln', 'system/Patient.rs'));
    expect(bad).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const scope = await tokenRequest(server, clientCredentialsForm(await assertion(server, rs), 'system/Encounter.rs'));
    expect(scope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it('fetches a JWKS by URL (cached) for a client registered with jwks_uri', async () => {
    const key = await backendKey('ES384');
    let fetches = 0;
    const jwksServer = http.createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    try {
      const url = `http://localhost:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
      const reg = await register({ client_name: 'URL bot', token_endpoint_auth_method: 'private_key_jwt', jwks_uri: url, scope: 'system/Patient.rs' });
      expect(reg.status).toBe(201);
      const c = { ...key, clientId: reg.body.client_id };
      for (let i = 0; i < 2; i++) {
        expect((await tokenRequest(server, clientCredentialsForm(await assertion(server, c, { jku: url }), 'system/Patient.rs'))).status).toBe(200);
      }
      expect(fetches).toBe(1);
    } finally {
      jwksServer.close();
    }
  });
});

describe('registration (RFC 7591)', () => {
  it('is refused without an admin token', async () => {
    const receptionist = await createUser(server, 'receptionist');
    const token = (await loginForTokens(server, receptionist, { clientId: 'charting-app', scope: 'openid fhirUser user/Patient.rs' })).access_token;
    const body = { client_name: 'x', redirect_uris: ['https://app.example/cb'] };
    expect((await register(body, token))).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    expect((await register(body, 'not-a-token'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  });

  it('registers a public client and validates metadata', async () => {
    const ok = await register({ client_name: 'Third party', redirect_uris: ['https://app.example/cb'], scope: 'openid fhirUser patient/*.rs' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ token_endpoint_auth_method: 'none', redirect_uris: ['https://app.example/cb'] });
    for (const bad of [
      { redirect_uris: ['http://evil.example/cb'] },
      { redirect_uris: [] },
      { token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://a.example/'] },
      { token_endpoint_auth_method: 'private_key_jwt', scope: 'system/*.rs' },
      { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'RSA', d: 'secret' }] }, scope: 'system/*.rs' },
      { redirect_uris: ['https://a.example/'], scope: 'nonsense/scope' },
    ]) {
      const res = await register(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error).toBe('invalid_client_metadata');
    }
    expect((await fetch(`${server.url}/oauth/register`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{bad json' })).status).toBe(400);
  });
});

describe('introspection (RFC 7662) and revocation (RFC 7009)', () => {
  it('introspects access tokens for an authenticated caller and revokes them', async () => {
    const token = (await tokenRequest(server, clientCredentialsForm(await assertion(server, rs), 'system/Patient.rs'))).body.access_token;
    expect((await form('/oauth/introspect', { token }))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const auth = { authorization: `Bearer ${adminToken}` };
    const active = await form('/oauth/introspect', { token }, auth);
    expect(active.body).toMatchObject({ active: true, client_id: rs.clientId, scope: 'system/Patient.rs', sub: rs.clientId });
    expect((await form('/oauth/introspect', { token: 'garbage' }, auth)).body).toEqual({ active: false });
    const viaAssertion = await form('/oauth/introspect', { token, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(server, es) });
    expect(viaAssertion.body.active).toBe(true);

    // Used (and so verified once) before it is revoked: the revocation must still take effect.
    expect((await fetchJson(`${server.fhir}/Patient`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const revoked = await form('/oauth/revoke', { token, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(server, rs) });
    expect(revoked.status).toBe(200);
    expect((await form('/oauth/introspect', { token }, auth)).body).toEqual({ active: false });
    const refused = await fetchJson(`${server.fhir}/Patient`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect((await form('/oauth/revoke', { token: 'unknown', client_id: 'booking-app' })).status).toBe(200);
    expect((await form('/oauth/revoke', { token: 'unknown' })).body.error).toBe('invalid_client');
  });

  it('answers bad input with OAuth errors, never 500', async () => {
    expect((await form('/oauth/token', {})).body.error).toBe('invalid_request');
    expect((await form('/oauth/token', { grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    expect((await form('/oauth/token', { grant_type: 'authorization_code', client_id: 'nope' })).body.error).toBe('invalid_client');
    expect((await form('/oauth/token', { grant_type: 'refresh_token', client_id: 'booking-app', refresh_token: 'x' })).body.error).toBe('invalid_grant');
    expect((await form('/oauth/token', { grant_type: 'authorization_code', client_id: 'booking-app', code: 'x', code_verifier: 'short' })).body.error).toBe('invalid_request');
    const weird = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
    expect(weird.status).toBe(400);
    expect(((await weird.json()) as any).error).toBe('invalid_request');
  });
});
