/**
 * Updates without a row lock (read, then write only if still current): concurrent updates lose
 * nothing, If-Match races have exactly one winner, and a stale guarded write changes nothing, its
 * riders (the AuditEvent of an audited update) included. Against PostgreSQL and PGlite.
 */
import type { AuditEvent, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../../test/db.ts';
import { AuditTrail } from '../../care/audit.ts';
import { systemContext, type Caller } from '../../context.ts';
import { loadDefinitions } from '../definitions.ts';
import { OperationOutcomeError } from '../outcomes.ts';
import { extractIndexRows } from '../search/extract.ts';
import { FhirRepository } from './repository.ts';
import { writeVersionGuarded } from './write-sql.ts';

describe.each<TestDbKind>(['postgres', 'pglite'])('optimistic update on %s', (kind) => {
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

  const familiesInIndex = async (id: string): Promise<string[]> => {
    const { rows } = await database.db.query<{ value: string }>(`SELECT value FROM idx_string WHERE res_id = $1 AND param = 'name' AND part = 'family' ORDER BY value`, [id]);
    return rows.map((r) => r.value);
  };

  /** The row that stores `resource` as `version` (what the repository hands to write-sql). */
  const versionRow = (resource: Resource, version: number, replaces: boolean) => {
    const lastUpdated = resource.meta?.lastUpdated as string;
    return { type: resource.resourceType, id: resource.id as string, version, lastUpdated, deleted: false, method: (replaces ? 'PUT' : 'POST') as 'PUT' | 'POST', content: JSON.stringify(resource), replaces, index: extractIndexRows(resource) };
  };

  /** A Patient now at version 2 ("Second"), and a writer's version 2 of it made from a stale read of version 1. */
  const staleWriteOverVersion2 = async (family: string) => {
    const { resource } = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family }] });
    const id = resource.id as string;
    await repo.update<Patient>({ resourceType: 'Patient', id, name: [{ family: 'Second' }] });
    const lastUpdated = new Date().toISOString();
    const stale: Patient = { resourceType: 'Patient', id, meta: { versionId: '2', lastUpdated }, name: [{ family: 'Stale' }] };
    return { id, stale, lastUpdated, row: versionRow(stale, 2, true) };
  };

  it('keeps every version of concurrent updates, each with its own number', async () => {
    const { resource } = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Start' }] });
    const id = resource.id as string;
    const results = await Promise.all(Array.from({ length: 12 }, (_, n) => repo.update<Patient>({ resourceType: 'Patient', id, name: [{ family: `Writer${n}` }] })));
    const versions = results.map((r) => r.stored.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, n) => n + 2));
    const history = await repo.history({ type: 'Patient', id, count: 100 });
    expect(history.versions.map((v) => v.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, n) => n + 1));
    // The current row and its index rows are those of the last version.
    const last = results.find((r) => r.stored.version === 13) as (typeof results)[number];
    const current = await repo.read('Patient', id);
    expect(current.content).toBe(last.stored.content);
    expect(await familiesInIndex(id)).toEqual([(last.resource as Patient).name?.[0].family?.toLowerCase()]);
  });

  it('lets exactly one of several updates with the same If-Match win; the others get 412', async () => {
    const { resource } = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Contested' }] });
    const id = resource.id as string;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, n) => repo.update<Patient>({ resourceType: 'Patient', id, name: [{ family: `Racer${n}` }] }, { ifMatch: 1 })),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected')) {
      expect(((o as PromiseRejectedResult).reason as OperationOutcomeError).status).toBe(412);
    }
    expect((await repo.read('Patient', id)).version).toBe(2);
  });

  it('creates with a client id once when two update-as-creates race', async () => {
    const id = `race-${kind}`;
    const results = await Promise.all([1, 2].map((n) => repo.update<Patient>({ resourceType: 'Patient', id, name: [{ family: `Client${n}` }] })));
    expect(results.map((r) => r.stored.version).sort()).toEqual([1, 2]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('a guarded write over a version that is no longer current writes nothing', async () => {
    // A writer that read version 1 tries to write version 2, which already exists.
    const { id, stale, lastUpdated, row } = await staleWriteOverVersion2('Guarded');
    expect(await writeVersionGuarded(database.db, row)).toBe(false);
    const current = await repo.read('Patient', id);
    expect(JSON.parse(current.content as string).name[0].family).toBe('Second');
    expect(await familiesInIndex(id)).toEqual(['second']);
    const { rows } = await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_event WHERE res_id = $1`, [id]);
    expect(rows[0].n).toBe(2);
    // The same write one version on goes through.
    const next: Patient = { ...stale, meta: { versionId: '3', lastUpdated } };
    expect(await writeVersionGuarded(database.db, { ...row, version: 3, content: JSON.stringify(next) })).toBe(true);
    expect(await familiesInIndex(id)).toEqual(['stale']);
  });

  const auditRowsOf = async (id: string) =>
    (await database.db.query<{ content: string }>(
      `SELECT r.content FROM resource r JOIN idx_reference x ON x.res_type = r.type AND x.res_id = r.id
        WHERE r.type = 'AuditEvent' AND x.param = 'entity' AND x.target_id = $1`,
      [id],
    )).rows.map((r) => JSON.parse(r.content) as AuditEvent);

  it('a stale guarded write writes none of its riders; a current one writes them all', async () => {
    const { id, stale, lastUpdated, row } = await staleWriteOverVersion2('Ridden');
    const audit: AuditEvent = {
      resourceType: 'AuditEvent', id: `rider-${id}`, meta: { versionId: '1', lastUpdated }, type: { code: 'rest' }, recorded: lastUpdated,
      agent: [{ requestor: true, who: { display: 'test' } }], source: { observer: { display: 'test' } }, entity: [{ what: { reference: `Patient/${id}` } }],
    };
    const rider = versionRow(audit, 1, false);
    expect(await writeVersionGuarded(database.db, row, [rider])).toBe(false);
    const count = async (sql: string) => (await database.db.query<{ n: number }>(sql, [audit.id])).rows[0].n;
    for (const table of ['resource WHERE id', 'resource_history WHERE id', 'outbox_event WHERE res_id', 'idx_reference WHERE res_id', 'idx_token WHERE res_id']) {
      expect(await count(`SELECT count(*)::int AS n FROM ${table} = $1`), table).toBe(0);
    }
    const next: Patient = { ...stale, meta: { versionId: '3', lastUpdated } };
    expect(await writeVersionGuarded(database.db, { ...row, version: 3, content: JSON.stringify(next) }, [rider])).toBe(true);
    for (const table of ['resource WHERE id', 'resource_history WHERE id', 'outbox_event WHERE res_id', 'idx_reference WHERE res_id']) {
      expect(await count(`SELECT count(*)::int AS n FROM ${table} = $1`), table).toBeGreaterThan(0);
    }
    expect(await familiesInIndex(id)).toEqual(['stale']);
  });

  it('audited concurrent updates by a caller: every version written has exactly one AuditEvent', async () => {
    const caller: Caller = { subject: 'ehr-client', clientId: 'ehr-client', scopes: ['system/Patient.cruds'] };
    const audited = new FhirRepository({ requestId: 'audited', caller, audit: new AuditTrail(database.db, 60_000) }, database.db, { referentialIntegrity: true });
    const { resource } = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Audited' }] });
    const id = resource.id as string;
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => audited.update<Patient>({ resourceType: 'Patient', id, name: [{ family: `Auditor${n}` }] })));
    expect(results.map((r) => r.stored.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, n) => n + 2));
    const events = await auditRowsOf(id);
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.action === 'U' && e.subtype?.[0].code === 'update')).toBe(true);
    expect(events.every((e) => e.agent?.some((a) => a.who?.identifier?.value === 'ehr-client'))).toBe(true);
  });
});
