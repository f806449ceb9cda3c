/**
 * What the CARE access predicates cost on search throughput. A server with AUTH_REQUIRED=on over
 * the SEARCH benchmark's generated clinic data (SIZE resources, default 50,000); one selective
 * search, `Observation?subject=Patient/…&code=http://loinc.org|…` over patients the GP has
 * grants for, run with autocannon
 *   - as the platform: a backend service token (system/*.rs: no row predicate), and
 *   - as a GP with grants (user/*.cruds: SmartPolicy narrowed by CarePolicy),
 * each DURATION seconds at CONNECTIONS connections, after a warm-up; both calls are audited.
 * Prints req/s, latency and the difference, and the PostgreSQL plans of both queries.
 *
 *   node server/test/bench/care-search.ts
 *   SIZE=50000 DURATION=10 CONNECTIONS=10 EXTRA_GRANTS=2000 ROUNDS=2 node server/test/bench/care-search.ts
 * EXTRA_GRANTS gives the GP that many more granted patients (a busy GP), to see how the
 * predicate scales with the number of grants.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { PostgresDatabase } from '../../src/db/postgres.ts';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { setLocalBaseUrl } from '../../src/fhir/references.ts';
import { FhirRepository } from '../../src/fhir/repo/repository.ts';
import { systemContext } from '../../src/context.ts';
import { SmartPolicy } from '../../src/access/smart-policy.ts';
import { CarePolicy } from '../../src/care/policy.ts';
import { grantConsent } from '../../src/care/consents.ts';
import { parseSearch } from '../../src/fhir/search/parse.ts';
import { pageSql } from '../../src/fhir/search/sql.ts';
import { allowAll } from '../../src/access/policy.ts';
import { hashPassword } from '../../src/accounts/password.ts';
import { createAccount } from '../../src/accounts/store.ts';
import { startBenchServer } from '../../../bench/harness.ts';
import { loadGenerated } from '../../../bench/search-data.ts';
import { assertion, backendKey, clientCredentialsForm, createUser, loginForTokens, tokenRequest } from '../auth-helpers.ts';
import type { TestServer } from '../server.ts';

const SIZE = Number(process.env.SIZE ?? 50_000);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const EXTRA_GRANTS = Number(process.env.EXTRA_GRANTS ?? 0);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const CODES = ['8867-4', '8480-6', '8462-4', '29463-7', '8302-2', '39156-5', '2339-0', '718-7', '4548-4', '2093-3'];

const server = await startBenchServer({ AUTH_REQUIRED: 'on' });
const db = new PostgresDatabase(server.databaseUrl, 4);
try {
  loadDefinitions();
  setLocalBaseUrl(server.fhir);
  process.stdout.write(`loading ${SIZE} generated resources…\n`);
  const generated = await loadGenerated(db, SIZE);

  // The GP: the practitioner with the most appointments; a grant (Consent) per patient booked.
  const { rows: top } = await db.query<{ id: string }>(
    `SELECT target_id AS id FROM idx_reference WHERE res_type = 'Appointment' AND param = 'actor' AND target_type = 'Practitioner'
      GROUP BY target_id ORDER BY count(*) DESC LIMIT 1`, []);
  const practitionerId = top[0].id;
  const { rows: booked } = await db.query<{ id: string }>(
    `SELECT DISTINCT p.target_id AS id FROM idx_reference a JOIN idx_reference p ON p.res_type = 'Appointment' AND p.res_id = a.res_id AND p.param = 'patient'
      WHERE a.res_type = 'Appointment' AND a.param = 'actor' AND a.target_type = 'Practitioner' AND a.target_id = $1`, [practitionerId]);
  const granted = booked.map((r) => r.id);
  const platform = new FhirRepository(systemContext(), db, { referentialIntegrity: false });
  const extra = generated.patients.filter((p) => !granted.includes(p)).slice(0, EXTRA_GRANTS);
  const consents = [...granted, ...extra].map((patientId) => grantConsent({ patientId, practitionerId, kind: 'appointment', start: new Date(Date.now() - 86_400_000) }));
  for (let i = 0; i < consents.length; i += 200) await platform.createMany(consents.slice(i, i + 200));
  await db.query('ANALYZE', []);
  const { rows: grantCount } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM care_grant WHERE practitioner_id = $1 AND active', [practitionerId]);
  process.stdout.write(`GP Practitioner/${practitionerId}: ${grantCount[0].n} active grants (${granted.length} from appointments, ${extra.length} extra)\n`);

  // Tokens through the real endpoints: the GP logs in; an admin registers a backend service.
  const fake = { url: server.url, fhir: server.fhir, database: { db } } as unknown as TestServer;
  const password = `pw-${randomUUID()}`;
  const email = `bench-gp-${randomUUID().slice(0, 6)}@example.org`;
  await createAccount(db, { email, passwordHash: await hashPassword(password), role: 'gp', fullName: 'Bench GP', fhirUser: `Practitioner/${practitionerId}`, secondFactor: null });
  const gpToken = (await loginForTokens(fake, { id: '', email, password, role: 'gp', fhirUser: `Practitioner/${practitionerId}` }, { clientId: 'charting-app', scope: 'user/*.cruds' })).access_token as string;
  const adminUser = await createUser(fake, 'admin');
  const adminToken = (await loginForTokens(fake, adminUser, { clientId: 'charting-app', scope: 'user/*.cruds' })).access_token as string;
  const key = await backendKey('ES384');
  const reg = await fetch(`${server.url}/oauth/register`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scope: 'system/*.rs' }),
  }).then((r) => r.json() as Promise<{ client_id: string }>);
  const backend = await tokenRequest(fake, clientCredentialsForm(await assertion(fake, { ...key, clientId: reg.client_id }), 'system/*.rs'));
  const platformToken = backend.body.access_token as string;

  // The same rotating list of selective queries for both callers: the GP's patients × codes.
  const paths = granted.flatMap((p) => CODES.map((c) => `/fhir/Observation?subject=Patient/${p}&code=http://loinc.org|${c}`));
  const totals = async (token: string) => {
    let n = 0;
    for (const p of paths.slice(0, 50)) n += ((await (await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { entry?: unknown[] }).entry?.length ?? 0;
    return n;
  };
  const [asPlatform, asGp] = [await totals(platformToken), await totals(gpToken)];
  process.stdout.write(`sanity: the first 50 queries return ${asPlatform} matches as the platform, ${asGp} as the GP\n`);
  if (asPlatform !== asGp || asPlatform === 0) throw new Error('the two callers do not see the same (non-empty) results');

  // Plans of one such query, without and with the GP's predicates.
  const req = parseSearch('Observation', { subject: `Patient/${granted[0]}`, code: `http://loinc.org|${CODES[0]}` });
  const gpPolicy = new CarePolicy(new SmartPolicy({ scopes: ['user/*.cruds'], role: 'gp', fhirUser: `Practitioner/${practitionerId}` }), { subject: 'x', fhirUser: `Practitioner/${practitionerId}`, role: 'gp', scopes: ['user/*.cruds'] });
  for (const [name, access] of [['platform', allowAll], ['gp', gpPolicy]] as const) {
    const page = pageSql(req, access);
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${page.sql}`, page.params);
    process.stdout.write(`\nplan as ${name}:\n${rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}\n`);
  }

  const run = async (token: string, duration: number) => {
    let i = 0;
    const result = await autocannon({
      url: server.url, connections: CONNECTIONS, duration,
      requests: [{ method: 'GET', headers: { authorization: `Bearer ${token}` }, setupRequest: (r) => ({ ...r, path: paths[i++ % paths.length] }) }],
    });
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts, total: result.requests.total };
  };
  // Paired latency: one request as each caller in turn, so machine noise hits both alike.
  const lat = { platform: [] as number[], gp: [] as number[] };
  for (let i = 0; i < 600; i++) {
    for (const who of i % 2 ? (['gp', 'platform'] as const) : (['platform', 'gp'] as const)) {
      const t = performance.now();
      await (await fetch(`${server.url}${paths[i % paths.length]}`, { headers: { authorization: `Bearer ${who === 'gp' ? gpToken : platformToken}` } })).arrayBuffer();
      if (i >= 100) lat[who].push(performance.now() - t);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  process.stdout.write(`\npaired sequential latency (500 each): platform median ${median(lat.platform).toFixed(2)} ms, GP median ${median(lat.gp).toFixed(2)} ms\n`);

  // The same for a broad search (most rows are other GPs' patients): the predicate decides.
  const broad = { platform: [] as number[], gp: [] as number[] };
  for (let i = 0; i < 120; i++) {
    for (const who of ['platform', 'gp'] as const) {
      const t = performance.now();
      const res = await fetch(`${server.url}/fhir/Observation?code=http://loinc.org|${CODES[i % CODES.length]}&_count=20`, { headers: { authorization: `Bearer ${who === 'gp' ? gpToken : platformToken}` } });
      await res.arrayBuffer();
      if (i >= 20) broad[who].push(performance.now() - t);
    }
  }
  process.stdout.write(`broad search Observation?code=…&_count=20 (100 each): platform median ${median(broad.platform).toFixed(2)} ms, GP median ${median(broad.gp).toFixed(2)} ms\n`);

  process.stdout.write('\nwarming up…\n');
  await run(platformToken, 3);
  await run(gpToken, 3);
  const results: { who: string; rps: number; p50: number; p99: number; failures: number; total: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order between rounds so neither caller always runs on a warmer cache.
    const order = round % 2 === 0 ? (['platform', 'gp'] as const) : (['gp', 'platform'] as const);
    for (const who of order) {
      const r = await run(who === 'platform' ? platformToken : gpToken, DURATION);
      results.push({ who, ...r });
      process.stdout.write(`round ${round + 1} ${who.padEnd(8)} ${r.rps.toFixed(0)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${r.total} requests, ${r.failures} failures)\n`);
    }
  }
  const mean = (who: string) => {
    const xs = results.filter((r) => r.who === who).map((r) => r.rps);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const [p, g] = [mean('platform'), mean('gp')];
  process.stdout.write(`\nplatform ${p.toFixed(0)} req/s, GP with CarePolicy ${g.toFixed(0)} req/s: the predicates cost ${(((p - g) / p) * 100).toFixed(1)}% of throughput (target ≤ 20%)\n`);
} finally {
  await db.close();
  await server.stop();
}
