/**
 * Test databases: a fresh PostgreSQL database per test file (created from TEST_DATABASE_URL or
 * DATABASE_URL, default the local server's `test` database) or, with TEST_DB=pglite, an
 * in-memory PGlite. Both are migrated and dropped again by `close()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { PgliteDatabase } from '../src/db/pglite.ts';
import { PostgresDatabase } from '../src/db/postgres.ts';
import { setLogLevel } from '../src/log.ts';

export type TestDbKind = 'postgres' | 'pglite';

export function defaultTestDbKind(): TestDbKind {
  return process.env.TEST_DB === 'pglite' ? 'pglite' : 'postgres';
}

export function adminUrl(): string {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestDatabase {
  db: Database;
  /** Connection string of the PostgreSQL database (undefined for PGlite). */
  url?: string;
  close(): Promise<void>;
}

/** Creates an empty PostgreSQL database and returns its URL (and a function dropping it). */
export async function createPostgresDatabase(prefix = 't'): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = adminUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createTestDatabase(kind: TestDbKind = defaultTestDbKind()): Promise<TestDatabase> {
  // Migration and server logs would drown the test report; TEST_LOG_LEVEL=info brings them back.
  setLogLevel((process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent');
  if (kind === 'pglite') {
    const db = await PgliteDatabase.open(undefined);
    await migrate(db);
    return { db, close: () => db.close() };
  }
  const { url, drop } = await createPostgresDatabase();
  const db = new PostgresDatabase(url, 10);
  await migrate(db);
  return {
    db,
    url,
    close: async () => {
      await db.close();
      await drop();
    },
  };
}
