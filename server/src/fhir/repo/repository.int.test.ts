/**
 * The repository contract: the same suite against PostgreSQL and embedded PGlite. Each kind gets
 * a fresh, migrated database (server/test/db.ts).
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../../test/db.ts';
import { systemContext } from '../../context.ts';
import { loadDefinitions } from '../definitions.ts';
import { OperationOutcomeError } from '../outcomes.ts';
import { FhirRepository } from './repository.ts';

/** The HTTP status an OperationOutcomeError carries, or undefined when `work` succeeded. */
async function statusOf(work: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await work();
    return undefined;
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.status;
    throw err;
  }
}

const patient = (family: string, extra: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', name: [{ family }], ...extra });

describe.each<TestDbKind>(['postgres', 'pglite'])('FhirRepository on %s', (kind) => {
  let database: TestDatabase;
  let repo: FhirRepository;
  /** A repository with referential integrity switched off. */
  let lenient: FhirRepository;

  beforeAll(async () => {
    loadDefinitions();
    database = await createTestDatabase(kind);
    repo = new FhirRepository(systemContext(), database.db, { referentialIntegrity: true });
    lenient = new FhirRepository(systemContext(), database.db, { referentialIntegrity: false });
  });
  afterAll(async () => {
    await database?.close();
  });

  describe('create, read, vread', () => {
    it('assigns a new id, version 1 and lastUpdated, replacing any id in the body', async () => {
      const { resource, stored, created } = await repo.create(patient('Create', { id: 'client-chosen' }));
      expect(created).toBe(true);
      expect(resource.id).not.toBe('client-chosen');
      expect(resource.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      expect(resource.meta?.versionId).toBe('1');
      expect(stored.version).toBe(1);
      expect(new Date(resource.meta?.lastUpdated as string).getTime()).toBe(stored.lastUpdated.getTime());

      const read = await repo.read('Patient', resource.id as string);
      expect(read.version).toBe(1);
      expect(JSON.parse(read.content as string)).toEqual(resource);
      const v1 = await repo.vread('Patient', resource.id as string, '1');
      expect(JSON.parse(v1.content as string)).toEqual(resource);
    });

    it('answers 404 for unknown ids, malformed ids and unknown versions', async () => {
      expect(await statusOf(() => repo.read('Patient', 'does-not-exist'))).toBe(404);
      expect(await statusOf(() => repo.read('Patient', 'bad id!'))).toBe(404);
      const { resource } = await repo.create(patient('Vread'));
      expect(await statusOf(() => repo.vread('Patient', resource.id as string, '2'))).toBe(404);
      expect(await statusOf(() => repo.vread('Patient', resource.id as string, 'x'))).toBe(404);
      expect(await statusOf(() => repo.vread('Patient', 'nope', '1'))).toBe(404);
    });

    it('refuses an invalid resource with 400 and stores nothing', async () => {
      const before = await countRows('Patient');
      expect(await statusOf(() => repo.create({ resourceType: 'Patient', active: 'yes' } as unknown as Patient))).toBe(400);
      expect(await countRows('Patient')).toBe(before);
    });
  });

  describe('update, update-as-create, patch', () => {
    it('update makes version 2; both versions stay readable', async () => {
      const { resource } = await repo.create(patient('Before'));
      const id = resource.id as string;
      const updated = await repo.update({ ...patient('After'), id });
      expect(updated.created).toBe(false);
      expect(updated.stored.version).toBe(2);
      expect(JSON.parse((await repo.read('Patient', id)).content as string).name[0].family).toBe('After');
      expect(JSON.parse((await repo.vread('Patient', id, '1')).content as string).name[0].family).toBe('Before');
      expect(JSON.parse((await repo.vread('Patient', id, '2')).content as string).name[0].family).toBe('After');
    });

    it('update of an unknown id creates the resource with the client id', async () => {
      const result = await repo.update({ ...patient('Chosen'), id: `chosen-${kind}` });
      expect(result.created).toBe(true);
      expect(result.stored.version).toBe(1);
      expect((await repo.read('Patient', `chosen-${kind}`)).version).toBe(1);
    });

    it('If-Match: a matching version is applied, a stale one is 412 and changes nothing', async () => {
      const { resource } = await repo.create(patient('IfMatch'));
      const id = resource.id as string;
      expect((await repo.update({ ...patient('IfMatch2'), id }, { ifMatch: 1 })).stored.version).toBe(2);
      expect(await statusOf(() => repo.update({ ...patient('Stale'), id }, { ifMatch: 1 }))).toBe(412);
      expect(await statusOf(() => repo.patch('Patient', id, [{ op: 'add', path: '/active', value: true }], 1))).toBe(412);
      expect(await statusOf(() => repo.delete('Patient', id, 1))).toBe(412);
      const current = await repo.read('Patient', id);
      expect(current.version).toBe(2);
      expect(JSON.parse(current.content as string).name[0].family).toBe('IfMatch2');
      // If-Match on a resource that does not exist is a failed precondition, not a create.
      expect(await statusOf(() => repo.update({ ...patient('Ghost'), id: `ghost-${kind}` }, { ifMatch: 1 }))).toBe(412);
      expect(await statusOf(() => repo.read('Patient', `ghost-${kind}`))).toBe(404);
    });

    it('patch applies JSON Patch, refuses bad patches (400), failed tests (422) and id changes', async () => {
      const { resource } = await repo.create(patient('Patch'));
      const id = resource.id as string;
      const result = await repo.patch('Patient', id, [
        { op: 'add', path: '/active', value: true },
        { op: 'replace', path: '/name/0/family', value: 'Patched' },
      ], 1);
      expect(result.stored.version).toBe(2);
      expect(result.resource).toMatchObject({ active: true, name: [{ family: 'Patched' }] });
      expect(await statusOf(() => repo.patch('Patient', id, [{ op: 'remove', path: '/nothing/here' }]))).toBe(400);
      expect(await statusOf(() => repo.patch('Patient', id, [{ op: 'test', path: '/active', value: false }]))).toBe(422);
      expect(await statusOf(() => repo.patch('Patient', id, [{ op: 'replace', path: '/id', value: 'other' }]))).toBe(400);
      expect(await statusOf(() => repo.patch('Patient', id, [{ op: 'replace', path: '/active', value: 'yes' }]))).toBe(400);
      expect(await statusOf(() => repo.patch('Patient', 'missing', []))).toBe(404);
      expect((await repo.read('Patient', id)).version).toBe(2);
    });
  });

  describe('delete', () => {
    it('is soft: read is 410, history keeps every version, and it can be recreated', async () => {
      const { resource } = await repo.create(patient('Doomed'));
      const id = resource.id as string;
      await repo.update({ ...patient('Doomed2'), id });
      const deleted = await repo.delete('Patient', id);
      expect(deleted?.version).toBe(3);
      expect(await statusOf(() => repo.read('Patient', id))).toBe(410);
      expect(await statusOf(() => repo.vread('Patient', id, '3'))).toBe(410);
      expect(JSON.parse((await repo.vread('Patient', id, '2')).content as string).name[0].family).toBe('Doomed2');

      const history = await repo.history({ type: 'Patient', id, count: 10 });
      expect(history.total).toBe(3);
      expect(history.versions.map((v) => [v.version, v.deleted, v.method])).toEqual([
        [3, true, 'DELETE'],
        [2, false, 'PUT'],
        [1, false, 'POST'],
      ]);
      // Deleting again is a no-op; a deleted resource leaves no search index rows behind.
      expect((await repo.delete('Patient', id))?.version).toBe(3);
      const idx = await database.db.query('SELECT 1 FROM idx_string WHERE res_type = $1 AND res_id = $2', ['Patient', id]);
      expect(idx.rowCount).toBe(0);
      // Update after delete brings it back as version 4.
      const back = await repo.update({ ...patient('Back'), id });
      expect(back.stored.version).toBe(4);
      expect(back.created).toBe(true);
      expect((await repo.read('Patient', id)).version).toBe(4);
    });

    it('of an unknown resource is a no-op', async () => {
      expect(await repo.delete('Patient', 'never-existed')).toBeUndefined();
    });
  });

  describe('history', () => {
    it('instance, type and system history with _since, _count and a cursor', async () => {
      const type = 'Basic';
      const basic = (n: number): Resource => ({ resourceType: 'Basic', code: { text: `b${n}` } }) as Resource;
      const a = (await repo.create(basic(1))).resource.id as string;
      await sleep(5);
      const since = new Date();
      await sleep(5);
      const b = (await repo.create(basic(2))).resource.id as string;
      await repo.update({ ...basic(3), id: a });
      await repo.delete(type, b);

      const all = await repo.history({ type, count: 100 });
      expect(all.total).toBe(4);
      const recent = await repo.history({ type, since, count: 100 });
      expect(recent.total).toBe(3);
      expect(recent.versions.map((v) => `${v.id === a ? 'a' : 'b'}${v.version}`)).toEqual(['b2', 'a2', 'b1']);

      // Paging with _count 1 visits every version exactly once, newest first.
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await repo.history({ type, count: 1, cursor });
        expect(page.versions.length).toBe(1);
        seen.push(`${page.versions[0].id}/${page.versions[0].version}`);
        cursor = page.next;
      } while (cursor);
      expect(seen).toEqual(all.versions.map((v) => `${v.id}/${v.version}`));

      const instance = await repo.history({ type, id: a, count: 100 });
      expect(instance.versions.map((v) => v.version)).toEqual([2, 1]);
      const system = await repo.history({ since, count: 100 });
      expect(system.versions.filter((v) => v.type === type)).toHaveLength(3);
      expect(await statusOf(() => repo.history({ type, count: 1, cursor: 'garbage' }))).toBe(400);
      expect(await statusOf(() => repo.history({ type, id: 'unknown', count: 1 }))).toBe(404);
    });
  });

  describe('createMany and transactions', () => {
    it('createMany stores every resource with its given ids and index rows', async () => {
      const ids = [`many-1-${kind}`, `many-2-${kind}`];
      const results = await repo.createMany([patient('ManyOne'), patient('ManyTwo')], ids);
      expect(results.map((r) => r.resource.id)).toEqual(ids);
      for (const [i, id] of ids.entries()) {
        const stored = JSON.parse((await repo.read('Patient', id)).content as string);
        expect(stored.name[0].family).toBe(i === 0 ? 'ManyOne' : 'ManyTwo');
        expect((await repo.history({ type: 'Patient', id, count: 5 })).total).toBe(1);
      }
      // (family names are rows of `name` tagged with their part: see string-coverage.ts)
      const idx = await database.db.query("SELECT value FROM idx_string WHERE res_type = $1 AND res_id = $2 AND param = 'name' AND part = $3", ['Patient', ids[1], 'family']);
      expect(idx.rows).toEqual([{ value: 'manytwo' }]);
    });

    it('a transaction that throws leaves nothing behind', async () => {
      const before = await countRows('Patient');
      let createdId: string | undefined;
      await expect(
        repo.withTransaction(async (tx) => {
          createdId = (await tx.create(patient('RolledBack'))).resource.id;
          await tx.createMany([patient('RolledBackToo')]);
          await tx.update({ ...patient('Bad'), id: 'x', active: 'yes' } as unknown as Patient);
        }),
      ).rejects.toBeInstanceOf(OperationOutcomeError);
      expect(await countRows('Patient')).toBe(before);
      expect(await statusOf(() => repo.read('Patient', createdId as string))).toBe(404);
      const hist = await database.db.query('SELECT 1 FROM resource_history WHERE id = $1', [createdId]);
      expect(hist.rowCount).toBe(0);
    });
  });

  describe('referential integrity', () => {
    it('on: a reference to a missing or deleted resource is 422; an existing one is fine', async () => {
      expect(await statusOf(() => repo.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/nobody' } } as Resource))).toBe(422);
      const { resource } = await repo.create(patient('Subject'));
      const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${resource.id}` } } as Resource;
      expect((await repo.create(obs)).created).toBe(true);
      await repo.delete('Patient', resource.id as string);
      expect(await statusOf(() => repo.create(obs))).toBe(422);
      expect(await statusOf(() => repo.createMany([obs]))).toBe(422);
    });

    it('deferred inside a transaction: forward references resolve at commit, dangling ones fail it', async () => {
      await repo.withTransaction(async (tx) => {
        await tx.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/later-${kind}` } } as Resource);
        await tx.update({ ...patient('Later'), id: `later-${kind}` });
      }, true);
      const before = await countRows('Observation');
      expect(
        await statusOf(() =>
          repo.withTransaction(async (tx) => {
            await tx.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/never' } } as Resource);
          }, true),
        ),
      ).toBe(422);
      expect(await countRows('Observation')).toBe(before);
    });

    it('off: dangling references are accepted', async () => {
      const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/nobody' } } as Resource;
      expect((await lenient.create(obs)).created).toBe(true);
      expect((await lenient.createMany([obs]))[0].created).toBe(true);
    });
  });

  describe('concurrency', () => {
    it('concurrent updates of one resource get consecutive versions and none is lost', async () => {
      const { resource } = await repo.create({ resourceType: 'Patient', name: [{ family: 'Racer', given: ['first'] }] });
      const id = resource.id as string;
      const n = 12;
      // Each writer appends one given name with a patch: a lost update would drop a name.
      const results = await Promise.all(
        Array.from({ length: n }, (_, k) => repo.patch('Patient', id, [{ op: 'add', path: '/name/0/given/-', value: `g${k}` }])),
      );
      expect(results.map((r) => r.stored.version).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, k) => k + 2));
      const current = JSON.parse((await repo.read('Patient', id)).content as string) as Patient;
      expect(current.meta?.versionId).toBe(String(n + 1));
      expect([...(current.name?.[0].given ?? [])].sort()).toEqual(['first', ...Array.from({ length: n }, (_, k) => `g${k}`)].sort());
      const history = await repo.history({ type: 'Patient', id, count: 100 });
      expect(history.versions.map((v) => v.version)).toEqual(Array.from({ length: n + 1 }, (_, k) => n + 1 - k));
    });

    it('concurrent PUTs with the same If-Match: exactly one wins, the rest are 412', async () => {
      const { resource } = await repo.create(patient('Optimist'));
      const id = resource.id as string;
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, k) => statusOf(() => repo.update({ ...patient(`W${k}`), id }, { ifMatch: 1 }))),
      );
      expect(outcomes.filter((s) => s === undefined)).toHaveLength(1);
      expect(outcomes.filter((s) => s === 412)).toHaveLength(7);
      expect((await repo.read('Patient', id)).version).toBe(2);
    });
  });

  async function countRows(type: string): Promise<number> {
    const { rows } = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource WHERE type = $1', [type]);
    return rows[0].n;
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
