/** PostgreSQL through a `pg` connection pool. */
import pg from 'pg';
import { log } from '../log.ts';
import { RETRYABLE_SQLSTATES, sqlState, type Database, type Queryable, type QueryResult } from './database.ts';

const MAX_ATTEMPTS = 4;

// int8 (bigint) and numeric arrive as strings by default; counts and ids we read are small
// enough for numbers.
pg.types.setTypeParser(20, (v) => Number(v));

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<T>(sql: string, params: unknown[] = [], name?: string): Promise<QueryResult<T>> {
      const res = await client.query({ text: sql, values: params, name });
      return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly direct: Queryable;

  constructor(connectionString: string, poolSize: number) {
    this.pool = new pg.Pool({ connectionString, max: poolSize });
    // An idle client that loses its server must not crash the process.
    this.pool.on('error', (err) => log.warn('idle database client error', { error: err.message }));
    this.direct = wrap(this.pool);
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<QueryResult<T>> {
    return this.direct.query<T>(sql, params, name);
  }

  exec(sql: string): Promise<void> {
    return this.direct.exec(sql);
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const state = sqlState(err);
        if (state && RETRYABLE_SQLSTATES.has(state) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
          continue;
        }
        throw err;
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
