import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDatabase } from './pglite.ts';

/** Fails instead of hanging when a statement waits for a transaction that waits for it. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms (deadlock)`)), ms))]);
}

let db: PgliteDatabase;
beforeAll(async () => {
  db = await PgliteDatabase.open(undefined);
  await db.exec('CREATE TABLE t (v text)');
});
afterAll(async () => {
  await db?.close();
});

describe('PGlite: statements issued from inside a transaction', () => {
  it("a query sent to the database by the transaction's own work joins it instead of deadlocking", async () => {
    const seen = await within(5_000, db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES ($1)', ['inside']);
      // What e.g. a cache inside the token endpoint's transaction does: ask the database itself.
      return (await db.query<{ v: string }>('SELECT v FROM t WHERE v = $1', ['inside'])).rows;
    }));
    expect(seen).toEqual([{ v: 'inside' }]);
  });

  it('a nested transaction joins the open one, and rolls back with it', async () => {
    await expect(within(5_000, db.transaction(async () => {
      await db.transaction(async (inner) => {
        await inner.query('INSERT INTO t VALUES ($1)', ['nested']);
      });
      throw new Error('outer fails');
    }))).rejects.toThrow('outer fails');
    expect((await db.query('SELECT 1 FROM t WHERE v = $1', ['nested'])).rows).toEqual([]);
  });

  it('other work still waits for the transaction, and work outliving it goes to the database', async () => {
    let later: Promise<unknown> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async (t) => {
      await t.query('INSERT INTO t VALUES ($1)', ['uncommitted']);
      // Started inside, runs after the commit: must not use the finished transaction.
      later = gate.then(() => db.query('SELECT count(*)::int AS n FROM t WHERE v = $1', ['uncommitted']));
    });
    // Outside the transaction's context: does not see its uncommitted row before it commits.
    await tx;
    release();
    expect((await within(5_000, later as Promise<{ rows: { n: number }[] }>)).rows[0].n).toBe(1);
  });

  it('counts rows as pg does: returned by a SELECT, changed by an UPDATE', async () => {
    await db.query('INSERT INTO t VALUES ($1), ($1)', ['counted']);
    expect((await db.query('SELECT 1 FROM t WHERE v = $1', ['counted'])).rowCount).toBe(2);
    expect((await db.query('UPDATE t SET v = $1 WHERE v = $2', ['recounted', 'counted'])).rowCount).toBe(2);
    expect((await db.query('SELECT 1 FROM t WHERE v = $1', ['none'])).rowCount).toBe(0);
  });
});
