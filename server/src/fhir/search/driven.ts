/**
 * The driven page: a faster plan for the commonest search, a single selective filter in the
 * default order (`_id`), such as `Patient?name=smith` or `Observation?subject=Patient/1`.
 *
 * The general page (sql.ts) tests every candidate resource with EXISTS and sorts them all before
 * taking a page. Here the matching index rows are read first (at most DRIVER_CAP of them, from
 * the index alone) and walked in resource-id order into the resource table, so a page of 20
 * visits about 20 resources however many match. When the index rows reach the cap, the page is
 * not built (a one-time filter skips the join) and the caller runs the general page instead:
 * both give the same rows in the same order, with cursors that work across the two.
 */
import { createHash } from 'node:crypto';
import type { AccessPolicy } from '../../access/policy.ts';
import { ID_RE, parseLocalReference } from '../references.ts';
import { escapeLike, tokenCondition } from './conditions.ts';
import { decodeCursor } from './cursor.ts';
import { stringRowsSql, type SqlContext } from './filters.ts';
import type { ParamFilter } from './filter-types.ts';
import { normalizeString } from './normalize.ts';
import type { SearchRequest } from './parse.ts';
import { PHONETIC_PARAM } from './phonetic.ts';
import { sortKeys, sortSignature } from './sort.ts';
import { newContext, whereSql, type PageSql } from './sql.ts';

/** Index rows a driven page reads at most; a search with more matches takes the general page. */
export const DRIVER_CAP = 1000;

export interface DrivenPageSql extends PageSql {
  /** Rows come with `driver_rows`; when it reaches `cap` the page was not built. */
  cap: number;
  /**
   * The prepared-statement name: the texts are few (one per type, parameter, form and access
   * policy shape), so each connection plans a text once and keeps the plan (the range condition
   * below serves a generic plan as well as a custom one).
   */
  name: string;
}

/**
 * The driven form of `req`'s page, or undefined when the search has no driving condition
 * (several types, another order, or no filter of a driving kind).
 */
export function drivenPageSql(req: SearchRequest, access: AccessPolicy, cap = DRIVER_CAP): DrivenPageSql | undefined {
  // One filter only: with several (a compartment counts as one), the planner knows better which
  // index to start from, and a driver that reached its cap would cost a wasted statement.
  if (req.otherTypes?.length || req.compartment || req.filters.length !== 1 || req.filters[0].kind !== 'param') return undefined;
  const ctx = newContext(access);
  const keys = sortKeys(req, ctx);
  if (keys.length !== 1 || keys[0].expr !== 'r.id') return undefined;
  const type = req.resourceType;
  const x = 'dx';
  const driver = drivingCondition(req.filters[0], type, x, ctx);
  if (!driver) return undefined;

  const signature = sortSignature(req, keys);
  const cursor = req.cursor ? decodeCursor(req.cursor, signature) : undefined;
  const reversed = cursor?.direction === 'prev';
  const descending = keys[0].descending !== reversed;
  const p = ctx.params;
  const typeParam = p.add(type);
  const after = cursor ? ` AND ${x}.res_id ${descending ? '<' : '>'} ${p.add(cursor.values[0])}::text` : '';
  const capParam = `${p.add(cap)}::int`;
  const where = whereSql({ ...req, filters: [] }, ctx);
  const sql = `WITH d AS MATERIALIZED (
      SELECT ${x}.res_id FROM ${driver.table} ${x} WHERE ${x}.res_type = ${typeParam} AND ${driver.condition}${after} LIMIT ${capParam})
    SELECT (SELECT count(*) FROM d)::int AS driver_rows, page.* FROM (SELECT 1) one LEFT JOIN (
      SELECT r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content, r.id AS k0
      FROM (SELECT DISTINCT res_id FROM d) m JOIN resource r ON r.type = ${typeParam} AND r.id = m.res_id
      WHERE ${where} AND (SELECT count(*) FROM d) < ${capParam}
      ORDER BY m.res_id ${descending ? 'DESC' : 'ASC'} LIMIT ${p.add(req.count + 1)}) page ON true`;
  const name = `search_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
  return { sql, params: p.values, keys, signature, reversed, cursor, cap, name };
}

/** The index condition a filter can drive with: one value of a selective, exactly indexed kind. */
function drivingCondition(f: ParamFilter, type: string, x: string, ctx: SqlContext): { table: string; condition: string } | undefined {
  if (f.values.length !== 1 || f.code.startsWith('_') || f.code === PHONETIC_PARAM) return undefined;
  const value = f.values[0];
  const p = ctx.params;
  const col = (name: string) => `${x}.${name}`;
  switch (f.param.type) {
    case 'string': {
      const norm = normalizeString(value);
      if (f.modifier || !norm) return undefined;
      // Starts-with as a range on the index's byte order (a LIKE with a parameter is not one).
      const upper = prefixUpperBound(norm);
      const range = `${x}.value ~>=~ ${p.add(norm)}${upper ? ` AND ${x}.value ~<~ ${p.add(upper)}` : ''}`;
      return { table: 'idx_string', condition: `${stringRowsSql(f.code, [type], x, ctx)} AND ${range} AND ${x}.value LIKE ${p.add(`${escapeLike(norm)}%`)}` };
    }
    case 'token': {
      // A code is selective; `system|` alone (every code of a system) is not.
      if (f.modifier || value.endsWith('|')) return undefined;
      return { table: 'idx_token', condition: `${x}.param = ${p.add(f.code)} AND ${tokenCondition(value, col, p)}` };
    }
    case 'reference': {
      if (f.modifier && !/^[A-Z]/.test(f.modifier)) return undefined; // only the :Type modifier
      const local = parseLocalReference(value);
      const targetType = local?.type ?? f.modifier;
      const targetId = local?.id ?? (ID_RE.test(value) ? value : undefined);
      if (!targetId || (f.modifier && local && local.type !== f.modifier)) return undefined;
      const target = `${x}.target_id = ${p.add(targetId)}${targetType ? ` AND ${x}.target_type = ${p.add(targetType)}` : ''}`;
      return { table: 'idx_reference', condition: `${x}.param = ${p.add(f.code)} AND ${target}` };
    }
  }
  return undefined;
}

/**
 * The least string greater than every string starting with `prefix`, in code-point (and so
 * UTF-8 byte) order: the prefix with its last character stepped up one. Undefined when no such
 * string exists (the prefix ends in U+10FFFF): the range is then open above.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const chars = Array.from(prefix);
  while (chars.length) {
    const last = chars.pop() as string;
    let next = (last.codePointAt(0) as number) + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // surrogates are not characters
    if (next <= 0x10ffff) return chars.join('') + String.fromCodePoint(next);
  }
  return undefined;
}
