/**
 * Migrations on PostgreSQL: applied once, idempotent on re-run, and safe when several servers
 * (here: several pools, each its own connections) migrate one empty database at the same time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../test/db.ts';
import { listMigrations, migrate } from './migrate.ts';
import { PostgresDatabase } from './postgres.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await (cleanup.pop() as () => Promise<void>)();
});

async function emptyDatabase(): Promise<string> {
  const { url, drop } = await createPostgresDatabase('mig');
  cleanup.push(drop);
  return url;
}

function open(url: string): PostgresDatabase {
  const db = new PostgresDatabase(url, 2);
  cleanup.push(() => db.close());
  return db;
}

describe('migrations on PostgreSQL', () => {
  const migrations = listMigrations();

  it('lists numbered migrations in order, without duplicate numbers', () => {
    expect(migrations.length).toBeGreaterThan(0);
    const versions = migrations.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('applies every migration once; running again applies nothing', async () => {
    const db = open(await emptyDatabase());
    expect(await migrate(db)).toBe(migrations.length);
    expect(await migrate(db)).toBe(0);
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migration ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  });

  it('is safe when several servers migrate one empty database at once', async () => {
    const url = await emptyDatabase();
    const servers = Array.from({ length: 4 }, () => open(url));
    const applied = await Promise.all(servers.map((db) => migrate(db)));
    // Exactly one of them did the work; the others waited on the lock and found nothing to do.
    expect(applied.reduce((a, b) => a + b, 0)).toBe(migrations.length);
    expect(applied.filter((n) => n > 0)).toHaveLength(1);
    const { rows } = await servers[0].query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migration');
    expect(rows[0].n).toBe(migrations.length);
    await servers[0].query('SELECT 1 FROM resource LIMIT 1');
  });

  it('a failing migration rolls the whole run back; the next start applies everything', async () => {
    const db = open(await emptyDatabase());
    const broken = [
      ...migrations,
      { version: 9_999, name: '9999_broken.sql', sql: 'CREATE TABLE half_done (x int); SELECT no_such_function();' },
    ];
    await expect(migrate(db, broken)).rejects.toThrow();
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('half_done', 'resource', 'schema_migration')",
    );
    expect(rows[0].n).toBe(0);
    expect(await migrate(db)).toBe(migrations.length);
  });

  it('070 indexes the positions of Locations stored before it', async () => {
    const db = open(await emptyDatabase());
    await migrate(db, migrations.filter((m) => m.version < 70));
    const insert = (id: string, content: unknown, deleted = false) =>
      db.query("INSERT INTO resource (type, id, version, last_updated, deleted, content) VALUES ('Location', $1, 1, now(), $2, $3)", [id, deleted, JSON.stringify(content)]);
    await insert('here', { resourceType: 'Location', id: 'here', position: { latitude: -33.9, longitude: 151.25 } });
    await insert('half', { resourceType: 'Location', id: 'half', position: { latitude: -33.9 } });
    await insert('text', { resourceType: 'Location', id: 'text', position: { latitude: '-33.9', longitude: '151.2' } });
    await insert('none', { resourceType: 'Location', id: 'none' });
    await insert('gone', { resourceType: 'Location', id: 'gone', position: { latitude: 1, longitude: 2 } }, true);
    await migrate(db);
    const { rows } = await db.query<{ res_id: string; param: string; value: string }>(
      "SELECT res_id, param, value::text FROM idx_number WHERE res_type = 'Location' ORDER BY res_id, param",
    );
    expect(rows).toEqual([
      { res_id: 'here', param: 'near:latitude', value: '-33.9' },
      { res_id: 'here', param: 'near:longitude', value: '151.25' },
    ]);
  });

  it('071 turns the narrow string parameters\' rows into tagged rows of the wide ones', async () => {
    const db = open(await emptyDatabase());
    await migrate(db, migrations.filter((m) => m.version < 71));
    // Rows as the extraction wrote them before: every part under name/address, and again under family, given, address-city.
    const rows: [string, string, string][] = [
      ['name', 'dr eve smith', 'Dr Eve Smith'], ['name', 'smith', 'Smith'], ['name', 'eve', 'Eve'], ['name', 'dr', 'Dr'],
      ['family', 'smith', 'Smith'], ['given', 'eve', 'Eve'],
      ['address', 'randwick', 'Randwick'], ['address', '1 main st', '1 Main St'], ['address-city', 'randwick', 'Randwick'],
      ['phonetic', 'SM0', 'Smith'],
    ];
    for (const [param, value, exact] of rows) {
      await db.query("INSERT INTO idx_string (res_type, res_id, param, value, exact) VALUES ('Patient', 'p1', $1, $2, $3)", [param, value, exact]);
    }
    await db.query("INSERT INTO idx_string (res_type, res_id, param, value, exact) VALUES ('Observation', 'o1', 'family', 'smith', 'Smith')");
    await migrate(db);
    const { rows: after } = await db.query<{ res_id: string; param: string; part: string | null; exact: string }>(
      'SELECT res_id, param, part, exact FROM idx_string ORDER BY res_id, param, exact',
    );
    expect(after.map((r) => `${r.res_id} ${r.param}.${r.part ?? '-'}=${r.exact}`)).toEqual([
      'o1 family.-=Smith', // not a type where family is part of name: left alone
      'p1 address.-=1 Main St',
      'p1 address.city=Randwick',
      'p1 name.-=Dr',
      'p1 name.-=Dr Eve Smith',
      'p1 name.given=Eve',
      'p1 name.family=Smith',
      'p1 phonetic.-=Smith',
    ]);
  });
});

