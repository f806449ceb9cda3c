/**
 * Group commit: concurrent creates share statements, and one bad version in a shared statement
 * fails alone. Against PostgreSQL and PGlite.
 */
import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../../test/db.ts';
import { systemContext } from '../../context.ts';
import { loadDefinitions } from '../definitions.ts';
import { AuditTrail } from '../../care/audit.ts';
import { extractIndexRows } from '../search/extract.ts';
import { GroupCommit, groupCommitFor } from './group-commit.ts';
import { FhirRepository } from './repository.ts';
import type { VersionRow } from './write-sql.ts';

function versionRow(id: string, family: string, version = 1): VersionRow {
  const lastUpdated = new Date().toISOString();
  const resource: Patient = { resourceType: 'Patient', id, meta: { versionId: String(version), lastUpdated }, name: [{ family }] };
  return {
    type: 'Patient',
    id,
    version,
    lastUpdated,
    deleted: false,
    method: 'POST',
    content: JSON.stringify(resource),
    replaces: false,
    index: extractIndexRows(resource),
  };
}

describe.each<TestDbKind>(['postgres', 'pglite'])('group commit on %s', (kind) => {
  let database: TestDatabase;
  let repo: FhirRepository;

  beforeAll(async () => {
    loadDefinitions();
    database = await createTestDatabase(kind);
    repo = new FhirRepository(systemContext(), database.db, { referentialIntegrity: true });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('writes concurrent creates in fewer statements than versions, each stored with its index rows', async () => {
    const stats = groupCommitFor(database.db).stats;
    const before = { ...stats };
    const results = await Promise.all(Array.from({ length: 30 }, (_, n) => repo.create<Patient>({ resourceType: 'Patient', name: [{ family: `Grouped${n}` }] })));
    expect(stats.versions - before.versions).toBe(30);
    expect(stats.statements - before.statements).toBeLessThan(30);
    for (const [n, r] of results.entries()) {
      const stored = await repo.read('Patient', r.resource.id as string);
      expect(JSON.parse(stored.content as string).name[0].family).toBe(`Grouped${n}`);
    }
    const { rows } = await database.db.query<{ n: number }>(
      `SELECT count(DISTINCT res_id)::int AS n FROM idx_string WHERE param = 'name' AND part = 'family' AND value LIKE 'grouped%'`,
    );
    expect(rows[0].n).toBe(30);
    // Every version has its outbox event (no dispatcher runs here to take them).
    const outbox = await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_event WHERE res_id = ANY($1::text[])`, [
      results.map((r) => r.resource.id as string),
    ]);
    expect(outbox.rows[0].n).toBe(30);
  });

  it('commits an audited create together with its AuditEvent, still sharing statements', async () => {
    const audit = new AuditTrail(database.db, 60_000);
    const context = { ...systemContext(), caller: { subject: 'clinician-1', fhirUser: 'Practitioner/p1', scopes: ['user/*.*'] }, audit };
    const audited = new FhirRepository(context, database.db, { referentialIntegrity: false });
    const stats = groupCommitFor(database.db).stats;
    const before = { ...stats };
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => audited.create<Patient>({ resourceType: 'Patient', name: [{ family: `Audited${n}` }] })));
    expect(stats.versions - before.versions).toBe(20);
    expect(stats.statements - before.statements).toBeLessThan(10);
    for (const r of results) {
      const { rows } = await database.db.query<{ content: string }>(
        `SELECT content FROM resource WHERE type = 'AuditEvent' AND content LIKE $1`,
        [`%"reference":"Patient/${r.resource.id}"%`],
      );
      expect(rows).toHaveLength(1);
      const event = JSON.parse(rows[0].content);
      expect(event.subtype[0].code).toBe('create');
      expect(event.action).toBe('C');
      expect(JSON.stringify(event.agent)).toContain('Practitioner/p1');
    }
    await audit.flush();
  });

  it('fails only the bad version of a shared statement', async () => {
    const existing = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Existing' }] });
    const group = new GroupCommit(database.db);
    // The first two go out at once; the next four wait and share one statement, in which the
    // third repeats version 1 of an existing resource (a history key violation).
    const ids = ['gc-a', 'gc-b', 'gc-c', 'gc-d', 'gc-e'];
    const writes = [
      group.write([versionRow(ids[0], 'A')]),
      group.write([versionRow(ids[1], 'B')]),
      group.write([versionRow(ids[2], 'C')]),
      group.write([versionRow(ids[3], 'D')]),
      group.write([versionRow(existing.resource.id as string, 'Clash')]),
      group.write([versionRow(ids[4], 'E')]),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[4] as PromiseRejectedResult).reason as { code?: string }).code).toBe('23505');
    // The grouped statement failed as a whole and its four versions were retried one by one.
    expect(group.stats).toEqual({ statements: 2 + 1 + 4, versions: 5 });
    for (const [n, id] of ids.entries()) {
      const stored = await repo.read('Patient', id);
      expect(JSON.parse(stored.content as string).name[0].family).toBe('ABCDE'[n]);
    }
    // The existing resource was not touched by the failed write.
    const kept = await repo.read('Patient', existing.resource.id as string);
    expect(JSON.parse(kept.content as string).name[0].family).toBe('Existing');
  });

  it('writes the versions of one write (a version and its audit record) all or none', async () => {
    const existing = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Existing' }] });
    const group = new GroupCommit(database.db);
    const outcomes = await Promise.allSettled([
      group.write([versionRow('gc-first', 'First')]),
      group.write([versionRow('gc-second', 'Second')]),
      // Shares a statement with the next write; its second version clashes, so its first must not stay.
      group.write([versionRow('gc-paired', 'Paired'), versionRow(existing.resource.id as string, 'Clash')]),
      group.write([versionRow('gc-after', 'After')]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[2] as PromiseRejectedResult).reason as { code?: string }).code).toBe('23505');
    expect((await database.db.query(`SELECT 1 FROM resource WHERE id = 'gc-paired'`)).rows).toHaveLength(0);
    expect((await database.db.query(`SELECT 1 FROM resource_history WHERE id = 'gc-paired'`)).rows).toHaveLength(0);
    expect(JSON.parse((await repo.read('Patient', 'gc-after')).content as string).name[0].family).toBe('After');
  });
});
