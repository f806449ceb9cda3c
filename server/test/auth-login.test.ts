/**
 * The browser-facing SMART flow over HTTP: authorize validation, login with lockout, e-mailed
 * second factor, CSRF, consent, patient picker, EHR launch, code + PKCE exchange, refresh
 * rotation with reuse detection, and the 401s of the FHIR API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import {
  FormBrowser, authorizeUrl, createResource, createUser, inputValue, loginForCode, loginForTokens, mailedCode, pkce, tokenRequest,
} from './auth-helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
});
afterAll(async () => {
  await server?.close();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('authorize request validation', () => {
  it('shows an error page (no redirect) for an unknown client or unregistered redirect_uri', async () => {
    const b = new FormBrowser();
    for (const url of [
      authorizeUrl(server, { scope: 'openid', clientId: 'nope' }),
      authorizeUrl(server, { scope: 'openid', redirectUri: 'https://evil.example/' }),
      authorizeUrl(server, { scope: 'openid', redirectUri: `${server.url}/apps/booking/extra` }),
    ]) {
      const res = await b.request(url);
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
    }
  });

  it('redirects errors back with the state: wrong aud, no PKCE, no state', async () => {
    const b = new FormBrowser();
    const wrongAud = await b.request(authorizeUrl(server, { scope: 'openid', aud: 'https://other.example/fhir', state: 's1' }));
    expect(wrongAud.status).toBe(303);
    const u = new URL(wrongAud.location!);
    expect(u.searchParams.get('error')).toBe('invalid_request');
    expect(u.searchParams.get('state')).toBe('s1');
    const noPkce = new URL(authorizeUrl(server, { scope: 'openid' }));
    noPkce.searchParams.set('code_challenge_method', 'plain');
    expect(new URL((await b.request(noPkce.toString())).location!).searchParams.get('error_description')).toMatch(/S256/);
  });

  it('serves the login form with labels, a CSRF token, secure cookie and headers', async () => {
    const b = new FormBrowser();
    const res = await b.request(authorizeUrl(server, { scope: 'openid fhirUser patient/*.rs' }));
    expect(res.status).toBe(200);
    expect(res.html).toMatch(/<label for="email">/);
    expect(res.html).toMatch(/<label for="password">/);
    expect(inputValue(res.html, 'csrf')).toMatch(/^[\w-]{40,}$/);
    const cookie = res.headers.getSetCookie()[0];
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('login', () => {
  it('refuses a form without the matching cookie or CSRF token', async () => {
    const user = await createUser(server, 'patient');
    const b = new FormBrowser();
    const page = await b.request(authorizeUrl(server, { scope: 'openid' }));
    const request = inputValue(page.html, 'request')!;
    const csrf = inputValue(page.html, 'csrf')!;
    const wrongCsrf = await b.request(`${server.url}/oauth/login`, { form: { request, csrf: 'x'.repeat(43), email: user.email, password: user.password } });
    expect(wrongCsrf.status).toBe(400);
    const otherBrowser = await new FormBrowser().request(`${server.url}/oauth/login`, { form: { request, csrf, email: user.email, password: user.password } });
    expect(otherBrowser.status).toBe(400);
    const ok = await b.request(`${server.url}/oauth/login`, { form: { request, csrf, email: user.email, password: user.password } });
    expect(ok.status).toBe(303);
  });

  it('locks an account after 5 wrong passwords, with a clear message', async () => {
    const user = await createUser(server, 'patient');
    const b = new FormBrowser();
    const page = await b.request(authorizeUrl(server, { scope: 'openid' }));
    const f = { request: inputValue(page.html, 'request')!, csrf: inputValue(page.html, 'csrf')!, email: user.email };
    for (let i = 0; i < 4; i++) {
      const bad = await b.request(`${server.url}/oauth/login`, { form: { ...f, password: 'wrong-password' } });
      expect(bad.status).toBe(401);
      expect(bad.html).toMatch(/not correct/);
    }
    const locked = await b.request(`${server.url}/oauth/login`, { form: { ...f, password: 'wrong-password' } });
    expect(locked.status).toBe(423);
    expect(locked.html).toMatch(/locked until/);
    const stillLocked = await b.request(`${server.url}/oauth/login`, { form: { ...f, password: user.password } });
    expect(stillLocked.status).toBe(423);
  });

  it('asks for the e-mailed 6-digit code, allows 5 attempts, then accepts the right one', async () => {
    const user = await createUser(server, 'patient', { secondFactor: true });
    const b = new FormBrowser();
    let page = await b.request(authorizeUrl(server, { scope: 'openid fhirUser patient/*.rs' }));
    const f = { request: inputValue(page.html, 'request')!, csrf: inputValue(page.html, 'csrf')! };
    page = await b.request(`${server.url}/oauth/login`, { form: { ...f, email: user.email, password: user.password } });
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<label for="code">/);
    const code = mailedCode(server, user.email)!;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    page = await b.request(`${server.url}/oauth/login/code`, { form: { ...f, code: wrong } });
    expect(page.status).toBe(401);
    expect(page.html).toMatch(/4 attempt\(s\) left/);
    page = await b.request(`${server.url}/oauth/login/code`, { form: { ...f, code } });
    expect(page.status).toBe(303);
    expect(new URL(page.location!).searchParams.get('code')).toBeTruthy();
  });

  it('ends the login after 5 wrong codes', async () => {
    const user = await createUser(server, 'patient', { secondFactor: true });
    const b = new FormBrowser();
    let page = await b.request(authorizeUrl(server, { scope: 'openid' }));
    const f = { request: inputValue(page.html, 'request')!, csrf: inputValue(page.html, 'csrf')! };
    await b.request(`${server.url}/oauth/login`, { form: { ...f, email: user.email, password: user.password } });
    const code = mailedCode(server, user.email)!;
    const wrong = String((Number(code) + 7) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) page = await b.request(`${server.url}/oauth/login/code`, { form: { ...f, code: wrong } });
    page = await b.request(`${server.url}/oauth/login/code`, { form: { ...f, code } });
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/Too many wrong codes/);
  });
});

describe('tokens', () => {
  it('exchanges a code with PKCE for patient-context tokens with an id_token naming fhirUser', async () => {
    const user = await createUser(server, 'patient');
    const t = await loginForTokens(server, user, { scope: 'openid fhirUser launch/patient patient/*.rs offline_access' });
    const patientId = user.fhirUser.split('/')[1];
    expect(t).toMatchObject({ token_type: 'Bearer', patient: patientId, scope: 'openid fhirUser launch/patient patient/*.rs offline_access' });
    expect(decodeJwt(t.id_token).fhirUser).toBe(user.fhirUser);
    expect(decodeJwt(t.access_token)).toMatchObject({ aud: server.fhir, iss: server.url, patient: patientId });
    expect(t.refresh_token).toBeTruthy();
    expect((await fetchJson(`${server.fhir}/Patient/${patientId}`, { headers: bearer(t.access_token) })).status).toBe(200);
    const other = await createUser(server, 'patient');
    expect((await fetchJson(`${server.fhir}/${other.fhirUser}`, { headers: bearer(t.access_token) })).status).toBe(404);
  });

  it('refuses a wrong code_verifier, and a reused code revokes what the first use got', async () => {
    const user = await createUser(server, 'patient');
    const redirect = await loginForCode(server, user, { scope: 'openid patient/*.rs', challenge: pkce().challenge });
    const form = { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, client_id: 'booking-app', redirect_uri: `${server.url}/apps/booking/` };
    expect(redirect.searchParams.get('state')).toBe('state-123');
    const wrong = await tokenRequest(server, { ...form, code_verifier: pkce().verifier });
    expect(wrong.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/code_verifier/) });
    // That failed attempt burned the code; a fresh one, used twice:
    const { verifier: v2, challenge: c2 } = pkce();
    const r2 = await loginForCode(server, user, { scope: 'openid patient/*.rs', challenge: c2 });
    const form2 = { ...form, code: r2.searchParams.get('code')!, code_verifier: v2 };
    const first = await tokenRequest(server, form2);
    expect(first.status).toBe(200);
    expect((await fetchJson(`${server.fhir}/${user.fhirUser}`, { headers: bearer(first.body.access_token) })).status).toBe(200);
    const replay = await tokenRequest(server, form2);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await fetchJson(`${server.fhir}/${user.fhirUser}`, { headers: bearer(first.body.access_token) })).status).toBe(401);
  });

  it('rotates refresh tokens; reusing an old one revokes the whole family', async () => {
    const user = await createUser(server, 'patient');
    const t = await loginForTokens(server, user, { scope: 'openid patient/*.rs offline_access' });
    const refresh = (token: string) => tokenRequest(server, { grant_type: 'refresh_token', refresh_token: token, client_id: 'booking-app' });
    const second = await refresh(t.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(t.refresh_token);
    expect(second.body.patient).toBe(user.fhirUser.split('/')[1]);
    const reuse = await refresh(t.refresh_token);
    expect(reuse.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/revoked/) });
    expect((await refresh(second.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await fetchJson(`${server.fhir}/${user.fhirUser}`, { headers: bearer(second.body.access_token) })).status).toBe(401);
  });

  it('gives no refresh token without offline_access or online_access', async () => {
    const user = await createUser(server, 'patient');
    const t = await loginForTokens(server, user, { scope: 'openid patient/*.rs' });
    expect(t.refresh_token).toBeUndefined();
  });
});

describe('consent, patient picker and EHR launch', () => {
  it('asks a user to approve a third-party app; denying redirects with access_denied', async () => {
    const admin = await createUser(server, 'admin');
    const adminToken = (await loginForTokens(server, admin, { clientId: 'charting-app', scope: 'user/*.cruds' })).access_token;
    const reg = await fetchJson(`${server.url}/oauth/register`, { method: 'POST', headers: { ...bearer(adminToken), 'content-type': 'application/json' }, body: { client_name: 'Third party', redirect_uris: ['https://third.example/cb'] } });
    const clientId = reg.body.client_id;
    const user = await createUser(server, 'patient');
    const b = new FormBrowser();
    let page = await b.request(authorizeUrl(server, { clientId, redirectUri: 'https://third.example/cb', scope: 'patient/*.rs' }));
    const f = { request: inputValue(page.html, 'request')!, csrf: inputValue(page.html, 'csrf')! };
    page = await b.request(`${server.url}/oauth/login`, { form: { ...f, email: user.email, password: user.password } });
    expect(page.html).toMatch(/Third party<\/strong> asks for access/);
    page = await b.request(`${server.url}/oauth/consent`, { form: { ...f, decision: 'deny' } });
    expect(new URL(page.location!).searchParams.get('error')).toBe('access_denied');
    // Approving once is remembered.
    const code = await loginForCode(server, user, { clientId, redirectUri: 'https://third.example/cb', scope: 'patient/*.rs' });
    expect(code.searchParams.get('code')).toBeTruthy();
  });

  /** CARE: a clinician reaches a patient only through a care relationship (an appointment). */
  const bookWith = (patientId: string, practitioner: string) =>
    createResource(server, {
      resourceType: 'Appointment', status: 'booked', start: '2031-04-01T00:00:00Z', end: '2031-04-01T00:30:00Z',
      participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'accepted' }, { actor: { reference: practitioner }, status: 'accepted' }],
    } as never);

  it('lets a clinician pick a patient for launch/patient in a standalone launch', async () => {
    const patient = await createResource(server, { resourceType: 'Patient', name: [{ text: 'Zelda Picker', family: 'Picker' }] });
    const gp = await createUser(server, 'gp');
    await bookWith(patient.id, gp.fhirUser);
    const t = await loginForTokens(server, gp, { clientId: 'charting-app', scope: 'openid fhirUser launch/patient patient/*.rs', pickPatient: patient.id });
    expect(t.patient).toBe(patient.id);
    expect((await fetchJson(`${server.fhir}/Patient/${patient.id}`, { headers: bearer(t.access_token) })).status).toBe(200);
  });

  it('EHR launch: the charting app gets a launch id and the app receives its patient and encounter', async () => {
    const patient = await createResource(server, { resourceType: 'Patient', name: [{ text: 'Ehr Launch' }] });
    const encounter = await createResource(server, { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, subject: { reference: `Patient/${patient.id}` } });
    const gp = await createUser(server, 'gp');
    await bookWith(patient.id, gp.fhirUser);
    const charting = (await loginForTokens(server, gp, { clientId: 'charting-app', scope: 'openid fhirUser user/*.rs' })).access_token;
    const launch = await fetchJson(`${server.url}/oauth/launch`, { method: 'POST', headers: { ...bearer(charting), 'content-type': 'application/json' }, body: { patient: patient.id, encounter: encounter.id } });
    expect(launch.status).toBe(201);
    const t = await loginForTokens(server, gp, { clientId: 'charting-app', scope: 'launch openid fhirUser patient/*.rs', launch: launch.body.launch });
    expect(t).toMatchObject({ patient: patient.id, encounter: encounter.id });
    const other = await createUser(server, 'nurse');
    const refused = await loginForCode(server, other, { clientId: 'charting-app', scope: 'launch patient/*.rs', launch: launch.body.launch });
    expect(refused.searchParams.get('error')).toBe('access_denied');
    expect(refused.searchParams.get('code')).toBeNull();
  });
});

describe('FHIR API enforcement basics', () => {
  it('401 with WWW-Authenticate without a token; metadata and discovery stay public', async () => {
    const none = await fetchJson(`${server.fhir}/Patient`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(none.body.resourceType).toBe('OperationOutcome');
    const bad = await fetchJson(`${server.fhir}/Patient`, { headers: bearer('abc.def.ghi') });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect((await fetchJson(`${server.fhir}/Patient`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status).toBe(401);
    expect((await fetchJson(`${server.fhir}/metadata`)).status).toBe(200);
    expect((await fetchJson(`${server.fhir}/.well-known/smart-configuration`)).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('limits login attempts per IP with a clear page', async () => {
    const small = await startTestServer({ AUTH_REQUIRED: 'on', AUTH_RATE_LIMIT: '3' });
    try {
      const b = new FormBrowser();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await b.request(`${small.url}/oauth/login`, { form: { request: 'x', csrf: 'y', email: `a${i}@b.example`, password: 'p' } })).status);
      }
      expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await small.close();
    }
  });
});
