/** Runs a SearchRequest: one page of matches, its cursors, the total, and included resources. */
import type { Queryable } from '../../db/database.ts';
import type { AccessPolicy } from '../../access/policy.ts';
import type { StoredVersion } from '../repo/repository.ts';
import { encodeCursor } from './cursor.ts';
import { runIncludes } from './include.ts';
import type { SearchRequest } from './parse.ts';
import { DRIVER_CAP, drivenPageSql } from './driven.ts';
import { countSql, estimateSql, pageSql, type PageSql } from './sql.ts';
import { resolveValueSets } from './valueset.ts';

export interface SearchResult {
  matches: StoredVersion[];
  included: StoredVersion[];
  total?: number;
  /** True when a next page exists. */
  hasMore: boolean;
  /** `_cursor` values for the next and previous pages, when they exist. */
  next?: string;
  previous?: string;
}

type KeyedRow = StoredVersion & Record<string, unknown>;

export interface SearchOptions {
  /** Index rows a driven page may read (driven.ts); 0 always takes the general page. */
  driverCap?: number;
}

export async function runSearch(db: Queryable, req: SearchRequest, access: AccessPolicy, options: SearchOptions = {}): Promise<SearchResult> {
  await resolveValueSets(db, req, access);
  const result: SearchResult = { matches: [], included: [], hasMore: false };
  const countOnly = req.summary === 'count' || req.count === 0;
  if (!countOnly) {
    const { page, rows } = await readPage(db, req, access, options.driverCap ?? DRIVER_CAP);
    const more = rows.length > req.count;
    const kept = rows.slice(0, req.count);
    if (page.reversed) kept.reverse();
    const keysOf = (row: KeyedRow) => page.keys.map((_, i) => (row[`k${i}`] as string | null) ?? null);
    // Reading forwards, more rows mean a next page; reading backwards, a previous one.
    const hasNext = page.reversed ? true : more;
    const hasPrev = page.reversed ? more : page.cursor !== undefined;
    if (kept.length) {
      if (hasNext) result.next = encodeCursor({ direction: 'next', values: keysOf(kept[kept.length - 1]), signature: page.signature });
      if (hasPrev) result.previous = encodeCursor({ direction: 'prev', values: keysOf(kept[0]), signature: page.signature });
    } else if (page.cursor) {
      // An empty page reached by a cursor: offer the way back (or forward) from the same spot.
      const back = { ...page.cursor, direction: page.reversed ? ('next' as const) : ('prev' as const) };
      if (page.reversed) result.next = encodeCursor(back);
      else result.previous = encodeCursor(back);
    }
    result.hasMore = result.next !== undefined;
    result.matches = kept.map(({ type, id, version, lastUpdated, content, deleted }) => ({ type, id, version, lastUpdated, content, deleted: deleted ?? false }));
    if (!page.cursor && !more && req.total !== 'none') result.total = kept.length; // the whole result is on this page
  }
  if (countOnly || req.total === 'accurate') {
    const { sql, params } = countSql(req, access);
    result.total = (await db.query<{ n: number }>(sql, params)).rows[0].n;
  } else if (req.total === 'estimate' && result.total === undefined) {
    result.total = await estimate(db, req, access);
  }
  result.included = await runIncludes(db, access, result.matches, req.include, req.revinclude);
  return result;
}

/** Up to `count + 1` rows of the page: driven from the index when it can be, else in general. */
async function readPage(db: Queryable, req: SearchRequest, access: AccessPolicy, cap: number): Promise<{ page: PageSql; rows: KeyedRow[] }> {
  const driven = cap > 0 ? drivenPageSql(req, access, cap) : undefined;
  if (driven) {
    const { rows } = await db.query<KeyedRow & { driver_rows: number }>(driven.sql, driven.params, driven.name);
    // Under the cap the page is complete (a search with no match gives one row of nulls).
    if (rows[0].driver_rows < driven.cap) return { page: driven, rows: rows.filter((row) => row.id !== null) };
  }
  const page = pageSql(req, access);
  return { page, rows: (await db.query<KeyedRow>(page.sql, page.params)).rows };
}

async function estimate(db: Queryable, req: SearchRequest, access: AccessPolicy): Promise<number> {
  const { sql, params } = estimateSql(req, access);
  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  let plan = Object.values(rows[0])[0];
  if (typeof plan === 'string') plan = JSON.parse(plan);
  const rowsEstimate = (plan as { Plan: { 'Plan Rows': number } }[])[0]?.Plan?.['Plan Rows'];
  return Math.max(0, Math.round(Number(rowsEstimate) || 0));
}
