/**
 * Embedded PostgreSQL (PGlite) with its files under DATA_DIR. PGlite must never be opened by two
 * processes at once (a committed write can be lost silently), so the directory is held by an
 * exclusive lock for as long as the database is open.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import lockfile from 'proper-lockfile';
import type { Database, Queryable, QueryResult } from './database.ts';

export class DataDirLockedError extends Error {
  constructor(dir: string) {
    super(
      `The embedded database in ${dir} is in use by another process. ` +
        'Stop that process, or give this one its own DATA_DIR, or set DATABASE_URL to use PostgreSQL.',
    );
    this.name = 'DataDirLockedError';
  }
}

type PGliteLike = Pick<PGlite, 'query' | 'exec'>;

function wrap(db: PGliteLike): Queryable {
  return {
    async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
      const res = await db.query<T>(sql, params);
      // As pg counts: the rows a statement returned (a SELECT's affectedRows is 0 in PGlite),
      // else the rows it changed.
      return { rows: res.rows, rowCount: res.rows.length || (res.affectedRows ?? 0) };
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
  };
}

/** The transaction a piece of work runs in, while it is open. */
interface OpenTransaction {
  tx: Queryable;
  open: boolean;
}

export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly direct: Queryable;
  /*
   * PGlite has one connection: while a transaction is open, every other statement waits for it to
   * end. A statement sent to the database (not the transaction) by the transaction's own work —
   * e.g. the signing-key cache reloading while the token endpoint's transaction is open — would
   * wait for itself forever. So statements and transactions started from inside an open
   * transaction's async context join it (on PostgreSQL they would take another connection).
   */
  private readonly current = new AsyncLocalStorage<OpenTransaction>();

  private readonly db: PGlite;
  private readonly releaseLock: (() => Promise<void>) | undefined;

  private constructor(db: PGlite, releaseLock: (() => Promise<void>) | undefined) {
    this.db = db;
    this.releaseLock = releaseLock;
    this.direct = wrap(db);
  }

  /** Opens (creating if needed) the database in `dataDir`; `undefined` means in memory. */
  static async open(dataDir: string | undefined): Promise<PgliteDatabase> {
    let release: (() => Promise<void>) | undefined;
    if (dataDir) {
      fs.mkdirSync(dataDir, { recursive: true });
      try {
        // The lock is refreshed in the background; a crashed holder's lock goes stale after 10 s.
        release = await lockfile.lock(dataDir, { stale: 10_000, update: 2_000, realpath: false });
      } catch (err) {
        if ((err as { code?: string }).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
        throw err;
      }
    }
    try {
      const db = await PGlite.create(dataDir ? `${dataDir}/pgdata` : undefined, { extensions: { pg_trgm } });
      return new PgliteDatabase(db, release);
    } catch (err) {
      await release?.();
      throw err;
    }
  }

  /** Where a statement goes: the open transaction it was issued from, else the database. */
  private target(): Queryable {
    const open = this.current.getStore();
    return open?.open ? open.tx : this.direct;
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return this.target().query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.target().exec(sql);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    if (outer?.open) return work(outer.tx);
    // PGlite's transaction() queues other statements until this one ends.
    return this.db.transaction(async (raw) => {
      const open: OpenTransaction = { tx: wrap(raw), open: true };
      try {
        return await this.current.run(open, () => work(open.tx));
      } finally {
        // Work that outlives the transaction (a timer it started) goes to the database again.
        open.open = false;
      }
    });
  }

  async close(): Promise<void> {
    await this.db.close();
    await this.releaseLock?.();
  }
}
