/**
 * One interface over the two databases we run on: PostgreSQL through a `pg` pool, or embedded
 * PGlite when no DATABASE_URL is set. Everything above this file speaks only `Database`.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /**
   * Runs one parameterised statement. `name` makes it a prepared statement on PostgreSQL
   * (planned once per connection); give it only to statements whose text never changes.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `work` inside one transaction: committed when it resolves, rolled back when it throws.
   * Serialization failures and deadlocks are retried a few times before the error escapes.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL SQLSTATEs that mean "try the whole transaction again". */
export const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
