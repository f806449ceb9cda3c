/**
 * Helpers for the AUTH suites: users with accounts and FHIR resources, PKCE pairs, a scripted
 * browser for the login forms (cookie jar + hidden fields), backend clients with jose keys.
 */
import { createHash, randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Resource } from '@medplum/fhirtypes';
import { hashPassword } from '../src/accounts/password.ts';
import type { Role } from '../src/accounts/roles.ts';
import { createAccount } from '../src/accounts/store.ts';
import { systemContext } from '../src/context.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import type { DevOutbox } from '../src/notify/email.ts';
import type { TestServer } from './server.ts';

type CryptoKey = webcrypto.CryptoKey;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  fhirUser: string;
}

export async function createResource<T extends Resource>(server: TestServer, resource: T): Promise<T & { id: string }> {
  const repo = new FhirRepository(systemContext(), server.database.db, { referentialIntegrity: false });
  return (await repo.create(resource)).resource as T & { id: string };
}

let n = 0;
export async function createUser(server: TestServer, role: Role, options: { secondFactor?: boolean; name?: string } = {}): Promise<TestUser> {
  const email = `${role}-${++n}-${randomUUID().slice(0, 6)}@example.org`;
  const password = `pw-${randomUUID()}`;
  const name = options.name ?? `${role} user${n}`;
  const resource = role === 'patient'
    ? await createResource(server, { resourceType: 'Patient', name: [{ text: name, family: `Family${n}` }] })
    : await createResource(server, { resourceType: 'Practitioner', name: [{ text: name }] });
  const fhirUser = `${resource.resourceType}/${resource.id}`;
  const account = await createAccount(server.database.db, {
    email, passwordHash: await hashPassword(password), role, fullName: name, fhirUser, secondFactor: options.secondFactor ? 'email' : null,
  });
  return { id: account!.id, email, password, role, fhirUser };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The value of a hidden or text input in our server-rendered forms. */
export function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html);
  return m?.[1];
}

/** A minimal browser: a cookie jar and manual redirects, so tests can inspect every step. */
export class FormBrowser {
  cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<{ status: number; html: string; location?: string; headers: Headers }> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const [k, v] = pair.split('=');
      if (attrs.some((a) => /max-age=0/i.test(a.trim()))) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return { status: res.status, html: await res.text(), location: res.headers.get('location') ?? undefined, headers: res.headers };
  }
}

export interface AuthorizeParams {
  clientId?: string;
  redirectUri?: string;
  scope: string;
  state?: string;
  aud?: string;
  launch?: string;
  challenge?: string;
}

export function authorizeUrl(server: TestServer, p: AuthorizeParams): string {
  const u = new URL(`${server.url}/oauth/authorize`);
  const app = p.clientId ?? 'booking-app';
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: app,
    redirect_uri: p.redirectUri ?? `${server.url}/apps/${app.replace(/-app$/, '')}/`,
    scope: p.scope,
    state: p.state ?? 'state-123',
    aud: p.aud ?? server.fhir,
    code_challenge: p.challenge ?? pkce().challenge,
    code_challenge_method: 'S256',
    ...(p.launch ? { launch: p.launch } : {}),
  }).toString();
  return u.toString();
}

/** The latest 6-digit code e-mailed to `email`. */
export function mailedCode(server: TestServer, email: string): string | undefined {
  const outbox = server.app.auth.email as DevOutbox;
  const msgs = outbox.to(email);
  return /\b(\d{6})\b/.exec(msgs[msgs.length - 1]?.text ?? '')?.[1];
}

/**
 * Runs authorize → password → (code) → (consent) → (picker: first patient or `pickPatient`) and
 * returns the redirect URL with the code.
 */
export async function loginForCode(server: TestServer, user: TestUser, p: AuthorizeParams & { pickPatient?: string }): Promise<URL> {
  return loginAt(server, user, authorizeUrl(server, p), p.pickPatient);
}

/** Drives the login pages starting at an authorize URL (built by us or by a client library). */
export async function loginAt(server: TestServer, user: TestUser, url: string, pickPatient?: string): Promise<URL> {
  const p = { pickPatient };
  const b = new FormBrowser();
  let page = await b.request(url);
  if (page.status !== 200) throw new Error(`authorize answered ${page.status} ${page.location ?? page.html.slice(0, 200)}`);
  const fields = () => ({ request: inputValue(page.html, 'request')!, csrf: inputValue(page.html, 'csrf')! });
  page = await b.request(`${server.url}/oauth/login`, { form: { ...fields(), email: user.email, password: user.password } });
  for (let step = 0; step < 4 && page.status === 200; step++) {
    if (page.html.includes('name="code"')) {
      page = await b.request(`${server.url}/oauth/login/code`, { form: { ...fields(), code: mailedCode(server, user.email)! } });
    } else if (page.html.includes('name="decision"')) {
      page = await b.request(`${server.url}/oauth/consent`, { form: { ...fields(), decision: 'approve' } });
    } else if (page.html.includes('name="patient"') || page.html.includes('Choose a patient')) {
      const first = /name="patient" id="p0" value="([^"]+)"/.exec(page.html)?.[1];
      page = await b.request(`${server.url}/oauth/patient`, { form: { ...fields(), action: 'choose', patient: p.pickPatient ?? first ?? '' } });
    } else break;
  }
  if (page.status !== 303 || !page.location) throw new Error(`login did not redirect: ${page.status} ${page.html.slice(0, 300)}`);
  return new URL(page.location);
}

export async function tokenRequest(server: TestServer, form: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: await res.json() };
}

/** Full authorization-code login: returns the token response. */
export async function loginForTokens(server: TestServer, user: TestUser, p: AuthorizeParams & { pickPatient?: string }): Promise<any> {
  const { verifier, challenge } = pkce();
  const redirect = await loginForCode(server, user, { ...p, challenge });
  const clientId = p.clientId ?? 'booking-app';
  const res = await tokenRequest(server, {
    grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, client_id: clientId,
    redirect_uri: p.redirectUri ?? `${server.url}/apps/${clientId.replace(/-app$/, '')}/`, code_verifier: verifier,
  });
  if (res.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface BackendClient {
  clientId: string;
  kid: string;
  alg: 'RS384' | 'ES384';
  privateKey: CryptoKey;
  publicJwk: Record<string, unknown>;
}

export async function backendKey(alg: 'RS384' | 'ES384' = 'RS384'): Promise<Omit<BackendClient, 'clientId'>> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey: privateKey as CryptoKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

export async function assertion(server: TestServer, c: BackendClient, o: { aud?: string; exp?: number; jti?: string; kid?: string; iss?: string; jku?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header: Record<string, string> = { alg: c.alg, kid: o.kid ?? c.kid, typ: 'JWT' };
  if (o.jku) header.jku = o.jku;
  return new SignJWT({})
    .setProtectedHeader(header as never)
    .setIssuer(o.iss ?? c.clientId)
    .setSubject(o.iss ?? c.clientId)
    .setAudience(o.aud ?? `${server.url}/oauth/token`)
    .setExpirationTime(o.exp ?? now + 240)
    .setIssuedAt(now)
    .setJti(o.jti ?? randomUUID())
    .sign(c.privateKey);
}

export function clientCredentialsForm(jwt: string, scope: string): Record<string, string> {
  return {
    grant_type: 'client_credentials', scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt,
  };
}
