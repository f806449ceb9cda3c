/**
 * Account endpoints: patient self-registration with e-mail verification, staff accounts by
 * admin/hr only, password change, own-profile update — and no credential readable through FHIR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { FormBrowser, authorizeUrl, createUser, inputValue, loginForTokens } from './auth-helpers.ts';
import type { DevOutbox } from '../src/notify/email.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
});
afterAll(async () => {
  await server?.close();
});

const post = (path: string, body: unknown, token?: string) =>
  fetchJson(`${server.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });

async function tryLogin(email: string, password: string) {
  const b = new FormBrowser();
  const page = await b.request(authorizeUrl(server, { scope: 'openid' }));
  return b.request(`${server.url}/oauth/login`, { form: { request: inputValue(page.html, 'request')!, csrf: inputValue(page.html, 'csrf')!, email, password } });
}

describe('accounts', () => {
  it('self-registers a patient who can sign in only after verifying the e-mail', async () => {
    const email = 'New.Patient@example.org';
    const reg = await post('/accounts/register', { email, password: 'a-good-password', full_name: 'New Patient', medicare_number: '2123 45670 1' });
    expect(reg.status).toBe(202);
    expect((await tryLogin(email, 'a-good-password')).html).toMatch(/confirm your e-mail/);
    const mail = (server.app.auth.email as DevOutbox).to(email).at(-1)!;
    const link = /https?:\/\/\S+\/accounts\/verify\?token=\S+/.exec(mail.text)![0];
    expect((await fetch(link)).status).toBe(200);
    expect((await fetch(link)).status).toBe(400); // one use
    expect((await tryLogin('new.patient@EXAMPLE.org', 'a-good-password')).status).toBe(303);
    // A second registration with the same e-mail (any case) changes nothing and reveals nothing.
    expect((await post('/accounts/register', { email: 'new.patient@example.org', password: 'another-password', full_name: 'X', medicare_number: '2123456701' })).status).toBe(202);
    expect((await tryLogin(email, 'a-good-password')).status).toBe(303);
    expect((await post('/accounts/register', { email: 'bad', password: 'short' })).body.error).toBe('invalid_request');
  });

  it('lets only admin and hr create staff accounts', async () => {
    const hr = await createUser(server, 'hr');
    const gp = await createUser(server, 'gp');
    const hrToken = (await loginForTokens(server, hr, { clientId: 'charting-app', scope: 'openid user/*.rs' })).access_token;
    const gpToken = (await loginForTokens(server, gp, { clientId: 'charting-app', scope: 'openid user/*.rs' })).access_token;
    const body = { email: 'nurse.new@example.org', password: 'nurse-password', full_name: 'Nora Nurse', role: 'nurse', provider_number: '2426699X' };
    expect((await post('/accounts', body, gpToken)).status).toBe(403);
    expect((await post('/accounts', { ...body, role: 'admin' }, hrToken)).status).toBe(403);
    const created = await post('/accounts', body, hrToken);
    expect(created.status).toBe(201);
    expect(created.body.fhirUser).toMatch(/^Practitioner\//);
    expect((await tryLogin(body.email, body.password)).status).toBe(303);
    expect((await post('/accounts', body, hrToken)).status).toBe(400);
  });

  it('changes the password and updates the own profile', async () => {
    const user = await createUser(server, 'patient');
    const token = (await loginForTokens(server, user, { scope: 'openid patient/*.rs' })).access_token;
    expect((await post('/accounts/password', { current_password: 'wrong', new_password: 'new-password-1' }, token)).status).toBe(403);
    expect((await post('/accounts/password', { current_password: user.password, new_password: 'new-password-1' }, token)).status).toBe(204);
    expect((await tryLogin(user.email, user.password)).status).toBe(401);
    expect((await tryLogin(user.email, 'new-password-1')).status).toBe(303);
    const me = await fetchJson(`${server.url}/accounts/me`, { method: 'PUT', body: { full_name: 'Renamed Person', phone: '0400 111 222' }, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    expect(me.status).toBe(200);
    const patient = await fetchJson(`${server.fhir}/${user.fhirUser}`, { headers: { authorization: `Bearer ${token}` } });
    expect(patient.body.name[0].text).toBe('Renamed Person');
    expect(patient.body.telecom).toContainEqual({ system: 'phone', value: '0400 111 222' });
    // Credentials never appear in the FHIR resource.
    expect(JSON.stringify(patient.body)).not.toMatch(/argon2|password/i);
  });
});
