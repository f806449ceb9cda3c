/**
 * The Synthea load: all 81 bundles of ../shared/fixtures/synthea posted to the real app on
 * PostgreSQL (referential integrity on), the hospital and practitioner batches first, then the
 * patient transactions a few at a time. Afterwards every reference in every stored resource
 * must resolve: no urn:uuid or conditional reference left, every local one pointing at a
 * stored, not deleted resource, every "#x" at a contained resource.
 */
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalReference, visitReferences } from '../src/fhir/references.ts';
import { startTestServer, type TestServer } from './server.ts';

/** The repository's root; the shared fixtures sit beside it (../shared). */
const REPO_ROOT_URL = new URL('../../', import.meta.url);
const FIXTURES = process.env.SYNTHEA_DIR ?? fileURLToPath(new URL('../shared/fixtures/synthea', REPO_ROOT_URL));
const CONCURRENT_BUNDLES = 3;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ REFERENTIAL_INTEGRITY: 'on' }, 'postgres');
});
afterAll(async () => {
  await server?.close();
});

/** Shared (batch) bundles first, as Synthea's own loader does. */
function bundleFiles(): { shared: string[]; patients: string[] } {
  const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
  const isShared = (f: string) => /^(hospitalInformation|practitionerInformation)/.test(f);
  return { shared: files.filter(isShared), patients: files.filter((f) => !isShared(f)) };
}

interface LoadResult {
  file: string;
  entries: number;
  status: number;
  /** Entry statuses of the response, e.g. "201". */
  statuses: string[];
}

async function postBundle(file: string): Promise<LoadResult> {
  const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  const entries = (JSON.parse(text).entry ?? []).length;
  const res = await fetch(server.fhir, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: text });
  const body: any = await res.json();
  const statuses = (body.entry ?? []).map((e: any) => String(e.response?.status ?? '').slice(0, 3));
  if (res.status !== 200) statuses.push(`bundle ${res.status}: ${body.issue?.[0]?.details?.text}`);
  return { file, entries, status: res.status, statuses };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  });
  await Promise.all(runners);
  return out;
}

describe('Synthea load', () => {
  it('loads all 81 bundles, and every reference in the stored resources resolves', { timeout: 600_000 }, async () => {
    const { shared, patients } = bundleFiles();
    expect(shared).toHaveLength(2);
    expect(shared.length + patients.length).toBe(81);

    const started = Date.now();
    const results: LoadResult[] = [];
    for (const file of shared) results.push(await postBundle(file));
    results.push(...(await pool(patients, CONCURRENT_BUNDLES, postBundle)));
    const seconds = (Date.now() - started) / 1000;

    const failures = results.filter((r) => r.status !== 200 || r.statuses.length !== r.entries || r.statuses.some((s) => !/^20[01]$/.test(s)));
    expect(failures.map((f) => `${f.file}: ${f.status} ${[...new Set(f.statuses.filter((s) => !/^20[01]$/.test(s)))].join(',')}`)).toEqual([]);

    const totalEntries = results.reduce((n, r) => n + r.entries, 0);
    const created = results.reduce((n, r) => n + r.statuses.filter((s) => s === '201').length, 0);
    expect(totalEntries).toBe(46_497);
    const { rows } = await server.database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource WHERE NOT deleted');
    expect(rows[0].n).toBe(created);
    console.log(`Synthea: ${totalEntries} entries, ${created} resources created in ${seconds.toFixed(1)} s (${Math.round(created / seconds)} resources/s)`);

    // Every search-index reference to a local resource points at a stored one.
    const dangling = await server.database.db.query<{ n: number; total: number }>(
      `SELECT count(*) FILTER (WHERE r.id IS NULL)::int AS n, count(*)::int AS total
         FROM idx_reference i LEFT JOIN resource r ON r.type = i.target_type AND r.id = i.target_id AND NOT r.deleted
        WHERE i.target_id IS NOT NULL`,
    );
    expect(dangling.rows[0].total).toBeGreaterThan(100_000);
    expect(dangling.rows[0].n).toBe(0);

    // And every reference anywhere in the stored JSON, whether indexed or not.
    const problems = await checkEveryReference();
    expect(problems.slice(0, 20)).toEqual([]);
  });
});

/** Scans every stored resource; returns a description of each reference that does not resolve. */
async function checkEveryReference(): Promise<string[]> {
  const db = server.database.db;
  const stored = new Set<string>();
  const wanted: { from: string; to: string }[] = [];
  const problems: string[] = [];
  let after = ['', ''];
  let references = 0;
  for (;;) {
    const { rows } = await db.query<{ type: string; id: string; content: string }>(
      `SELECT type, id, content FROM resource WHERE NOT deleted AND (type, id) > ($1, $2) ORDER BY type, id LIMIT 2000`,
      after,
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const from = `${row.type}/${row.id}`;
      stored.add(from);
      const resource = JSON.parse(row.content);
      const containedIds = new Set<string>((resource.contained ?? []).map((c: { id?: string }) => `#${c.id}`));
      visitReferences(resource, (ref) => {
        references++;
        if (ref.startsWith('#')) {
          if (ref !== '#' && !containedIds.has(ref)) problems.push(`${from}: contained ${ref} missing`);
        } else if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
          problems.push(`${from}: unresolved ${ref}`);
        } else if (/^[A-Z][A-Za-z]+\?/.test(ref)) {
          problems.push(`${from}: unresolved conditional ${ref}`);
        } else {
          const local = parseLocalReference(ref);
          if (local) wanted.push({ from, to: `${local.type}/${local.id}` });
          else if (!/^https?:\/\//.test(ref)) problems.push(`${from}: unrecognised reference ${ref}`);
        }
      });
    }
    const last = rows[rows.length - 1];
    after = [last.type, last.id];
  }
  for (const w of wanted) if (!stored.has(w.to)) problems.push(`${w.from}: ${w.to} does not exist`);
  expect(wanted.length).toBeGreaterThan(100_000);
  expect(references).toBeGreaterThanOrEqual(wanted.length);
  return problems;
}
