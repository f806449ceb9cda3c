/**
 * Rebuilding the search indexes of stored resources (after SearchParameter definitions or the
 * extraction change). Walks the resource table in (type, id) order in small batches, each its
 * own transaction that locks its rows (so a concurrent write waits instead of being overwritten
 * with stale index rows), recomputes index rows and compartments, and records how far it got
 * in `search_reindex`, so an interrupted run resumes where it stopped.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../db/database.ts';
import { INDEX_KINDS, INDEX_TABLES, ROW_FIELDS } from '../repo/write-sql.ts';
import { extractIndexRows, type IndexRows } from './extract.ts';

export interface ReindexOptions {
  /** Name of the run (its progress row); one at a time per name. */
  run?: string;
  batchSize?: number;
  /** Start from the beginning even if an unfinished run exists. */
  restart?: boolean;
  /** Only these resource types. */
  types?: string[];
  onProgress?: (p: ReindexProgress) => void;
}

export interface ReindexProgress {
  done: number;
  total: number;
  resumed: boolean;
  finished: boolean;
}

interface State {
  last_type: string | null;
  last_id: string | null;
  done: string;
  total: string;
  finished_at: Date | null;
}

/** One statement replacing the index rows (and compartments) of a batch of resources. */
function rewriteSql(): string {
  let n = 0;
  const p = () => `$${++n}`;
  const [types, ids, comps] = [p(), p(), p()];
  const parts = [
    `upd AS (UPDATE resource r SET compartments = u.comp::text[] FROM unnest(${types}::text[], ${ids}::text[], ${comps}::text[]) AS u(t, i, comp)
      WHERE r.type = u.t AND r.id = u.i RETURNING 1)`,
  ];
  for (const kind of INDEX_KINDS) {
    const { table, columns, types: colTypes } = INDEX_TABLES[kind];
    parts.push(`del_${kind} AS (DELETE FROM ${table} WHERE (res_id, res_type) IN (SELECT * FROM unnest(${ids}::text[], ${types}::text[])))`);
    const arrays = ['text', 'text', ...colTypes].map((t) => `${p()}::${t}[]`);
    parts.push(`ins_${kind} AS (INSERT INTO ${table} (res_type, res_id, ${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')}))`);
  }
  return `WITH ${parts.join(',\n')} SELECT count(*)::int AS n FROM upd`;
}
const REWRITE_SQL = rewriteSql();

const arrayLiteral = (values: string[]) => '{' + values.map((v) => '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';

async function rewrite(tx: Queryable, batch: { type: string; id: string; index: IndexRows }[]): Promise<void> {
  const params: unknown[] = [batch.map((b) => b.type), batch.map((b) => b.id), batch.map((b) => arrayLiteral(b.index.compartments))];
  for (const kind of INDEX_KINDS) {
    const fields = ROW_FIELDS[kind];
    const columns: unknown[][] = [[], [], ...fields.map(() => [])];
    for (const b of batch) {
      for (const row of b.index[kind] as unknown as Record<string, unknown>[]) {
        columns[0].push(b.type);
        columns[1].push(b.id);
        fields.forEach((f, k) => columns[k + 2].push(row[f] ?? null));
      }
    }
    params.push(...columns);
  }
  await tx.query(REWRITE_SQL, params);
}

export async function reindex(db: Database, options: ReindexOptions = {}): Promise<ReindexProgress> {
  const run = options.run ?? 'default';
  const batchSize = options.batchSize ?? 200;
  const typeFilter = options.types?.length ? options.types : null;
  const existing = (await db.query<State>('SELECT last_type, last_id, done, total, finished_at FROM search_reindex WHERE run = $1', [run])).rows[0];
  const resumed = !!existing && !existing.finished_at && !options.restart;
  if (!resumed) {
    const total = (await db.query<{ n: string }>('SELECT count(*) AS n FROM resource WHERE NOT deleted AND ($1::text[] IS NULL OR type = ANY($1))', [typeFilter])).rows[0].n;
    await db.query(
      `INSERT INTO search_reindex (run, total) VALUES ($1, $2)
       ON CONFLICT (run) DO UPDATE SET last_type = NULL, last_id = NULL, done = 0, total = $2, started_at = now(), updated_at = now(), finished_at = NULL`,
      [run, total],
    );
  }
  let lastType = resumed ? (existing?.last_type ?? null) : null;
  let lastId = resumed ? (existing?.last_id ?? null) : null;
  let done = resumed ? Number(existing?.done ?? 0) : 0;
  const total = resumed ? Number(existing?.total ?? 0) : Number((await db.query<State>('SELECT total FROM search_reindex WHERE run = $1', [run])).rows[0].total);
  options.onProgress?.({ done, total, resumed, finished: false });
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ type: string; id: string; content: string }>(
        `SELECT type, id, content FROM resource
          WHERE NOT deleted AND ($1::text IS NULL OR (type, id) > ($1, $2)) AND ($3::text[] IS NULL OR type = ANY($3))
          ORDER BY type, id LIMIT $4 FOR UPDATE`,
        [lastType, lastId, typeFilter, batchSize],
      );
      if (!rows.length) return 0;
      await rewrite(tx, rows.map((r) => ({ type: r.type, id: r.id, index: extractIndexRows(JSON.parse(r.content) as Resource) })));
      const last = rows[rows.length - 1];
      await tx.query('UPDATE search_reindex SET last_type = $2, last_id = $3, done = done + $4, updated_at = now() WHERE run = $1', [run, last.type, last.id, rows.length]);
      lastType = last.type;
      lastId = last.id;
      return rows.length;
    });
    if (n === 0) break;
    done += n;
    options.onProgress?.({ done, total: Math.max(total, done), resumed, finished: false });
  }
  await db.query('UPDATE search_reindex SET finished_at = now(), updated_at = now() WHERE run = $1', [run]);
  const result = { done, total: Math.max(total, done), resumed, finished: true };
  options.onProgress?.(result);
  return result;
}
