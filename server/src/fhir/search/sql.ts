/**
 * SearchRequest → parameterised SQL over the resource table and the index tables: one page of
 * matches (keyset paging), the exact count, or the planner's estimate of it. Every value travels
 * as a `$n` parameter; only table and column names from fixed lists enter the text.
 */
import type { AccessPolicy } from '../../access/policy.ts';
import { filterSql, typeSql, visibleSql, type SqlContext } from './filters.ts';
import { decodeCursor, type Cursor } from './cursor.ts';
import type { SearchRequest } from './parse.ts';
import { keysetSql, orderBySql, sortKeys, sortSignature, type SortKey } from './sort.ts';
import { SqlParams } from './sql-params.ts';

export { SqlParams };

export interface SearchSql {
  sql: string;
  params: unknown[];
}

export function newContext(access: AccessPolicy): SqlContext {
  return { params: new SqlParams(), access, aliases: 0 };
}

/** All types a request searches (one, or several for system search with `_type`). */
export function typesOf(req: SearchRequest): string[] {
  return [req.resourceType, ...(req.otherTypes ?? []).map((b) => b.resourceType)];
}

/**
 * The WHERE clause (without "WHERE") selecting the matches of `req` from `resource r`. (Also
 * used by the subscription matcher; `:in`/`:not-in` need `resolveValueSets` first.)
 */
export function whereSql(req: SearchRequest, ctx: SqlContext): string;
export function whereSql(req: SearchRequest, params: SqlParams, access: AccessPolicy): string;
export function whereSql(req: SearchRequest, ctxOrParams: SqlContext | SqlParams, access?: AccessPolicy): string {
  if (ctxOrParams instanceof SqlParams) return buildWhere(req, { params: ctxOrParams, access: access as AccessPolicy, aliases: 0 });
  return buildWhere(req, ctxOrParams);
}

function buildWhere(req: SearchRequest, ctx: SqlContext): string {
  const types = typesOf(req);
  const conds = [typeSql(types, 'r', ctx), 'NOT r.deleted'];
  const visible = visibleSql(types, 'r', ctx);
  if (visible) conds.push(visible);
  if (req.compartment) conds.push(`r.compartments @> ARRAY[${ctx.params.add(req.compartment)}::text]`);
  if (!req.otherTypes?.length) {
    for (const f of req.filters) conds.push(filterSql(f, types, 'r', ctx));
  } else if (req.filters.length || req.otherTypes.some((b) => b.filters.length)) {
    const branches = [{ resourceType: req.resourceType, filters: req.filters }, ...req.otherTypes].map((b) => {
      const own = [`r.type = ${ctx.params.add(b.resourceType)}`, ...b.filters.map((f) => filterSql(f, [b.resourceType], 'r', ctx))];
      return `(${own.join(' AND ')})`;
    });
    conds.push(`(${branches.join(' OR ')})`);
  }
  return conds.join(' AND ');
}

export interface PageSql extends SearchSql {
  keys: SortKey[];
  signature: string;
  /** True when the page is read backwards (a "previous" link): reverse the rows. */
  reversed: boolean;
  cursor?: Cursor;
}

/** One page: up to `count + 1` rows (the extra one tells whether more follow). */
export function pageSql(req: SearchRequest, access: AccessPolicy): PageSql {
  const ctx = newContext(access);
  const where = buildWhere(req, ctx);
  const keys = sortKeys(req, ctx);
  const signature = sortSignature(req, keys);
  const cursor = req.cursor ? decodeCursor(req.cursor, signature) : undefined;
  const reversed = cursor?.direction === 'prev';
  const after = cursor ? ` AND ${keysetSql(keys, cursor.values, reversed, ctx)}` : '';
  const keyColumns = keys.map((k, i) => `(${k.expr})::text AS k${i}`).join(', ');
  const sql = `SELECT r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content, ${keyColumns}
    FROM resource r WHERE ${where}${after} ORDER BY ${orderBySql(keys, reversed)} LIMIT ${ctx.params.add(req.count + 1)}`;
  return { sql, params: ctx.params.values, keys, signature, reversed, cursor };
}

export function countSql(req: SearchRequest, access: AccessPolicy): SearchSql {
  const ctx = newContext(access);
  const where = buildWhere(req, ctx);
  return { sql: `SELECT count(*)::int AS n FROM resource r WHERE ${where}`, params: ctx.params.values };
}

/** The planner's row estimate for the search (`_total=estimate`): cheap, never exact. */
export function estimateSql(req: SearchRequest, access: AccessPolicy): SearchSql {
  const ctx = newContext(access);
  const where = buildWhere(req, ctx);
  return { sql: `EXPLAIN (FORMAT JSON) SELECT 1 FROM resource r WHERE ${where}`, params: ctx.params.values };
}
