/** Runs a SearchRequest: matches, total, and `_include`/`_revinclude` resources. */
import type { Queryable } from '../../db/database.ts';
import type { AccessPolicy } from '../../access/policy.ts';
import type { StoredVersion } from '../repo/repository.ts';
import { SqlParams, countSql, searchSql } from './sql.ts';
import { getResourceTypes } from '../definitions.ts';

/** Types an _include may land on: the named target type, or any type. */
function reachableTypes(targetType: string | undefined): string[] {
  return targetType ? [targetType] : getResourceTypes();
}
import type { IncludeRule, SearchRequest } from './parse.ts';

export interface SearchResult {
  matches: StoredVersion[];
  included: StoredVersion[];
  total?: number;
  hasMore: boolean;
}

export async function runSearch(db: Queryable, req: SearchRequest, access: AccessPolicy): Promise<SearchResult> {
  let matches: StoredVersion[] = [];
  let hasMore = false;
  if (req.summary !== 'count' && req.count > 0) {
    const { sql, params } = searchSql(req, access);
    const { rows } = await db.query<StoredVersion>(sql, params);
    hasMore = rows.length > req.count;
    matches = rows.slice(0, req.count);
  }
  let total: number | undefined;
  const wantTotal = req.summary === 'count' || req.total === 'accurate' || req.total === 'estimate';
  if (wantTotal) {
    const { sql, params } = countSql(req, access);
    total = (await db.query<{ n: number }>(sql, params)).rows[0].n;
  } else if (!hasMore && req.offset === 0 && req.total !== 'none') {
    // The whole result fits on this page: the total is known for free.
    total = matches.length;
  }
  const included = await runIncludes(db, access, matches, req.include, req.revinclude);
  return { matches, included, total, hasMore };
}

async function runIncludes(
  db: Queryable,
  access: AccessPolicy,
  matches: StoredVersion[],
  include: IncludeRule[],
  revinclude: IncludeRule[],
): Promise<StoredVersion[]> {
  if (matches.length === 0 || (include.length === 0 && revinclude.length === 0)) return [];
  const seen = new Set(matches.map((m) => `${m.type}/${m.id}`));
  const out: StoredVersion[] = [];
  let frontier = matches;
  // One round for plain rules; further rounds only for :iterate rules.
  for (let round = 0; round < 4 && frontier.length; round++) {
    const rules = round === 0 ? { include, revinclude } : { include: include.filter((r) => r.iterate), revinclude: revinclude.filter((r) => r.iterate) };
    const found: StoredVersion[] = [];
    for (const rule of rules.include) found.push(...(await includeRows(db, access, frontier, rule)));
    for (const rule of rules.revinclude) found.push(...(await revincludeRows(db, access, frontier, rule)));
    frontier = [];
    for (const row of found) {
      const key = `${row.type}/${row.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(row);
      frontier.push(row);
    }
  }
  return out;
}

/** `r.type = … AND <visible>` for every type an include could reach, OR-ed (types without limits pass). */
function visibleAnyType(access: AccessPolicy, p: SqlParams, types: string[]): string {
  const limited: string[] = [];
  const conds: string[] = [];
  for (const t of types) {
    const v = access.visibleRows(t, 'r', p);
    if (v) {
      limited.push(t);
      conds.push(`(r.type = ${p.add(t)} AND (${v}))`);
    }
  }
  if (!limited.length) return '';
  // Types without a limit pass; each limited type passes only its visible rows.
  return `AND (r.type <> ALL(${p.add(limited)}::text[]) OR ${conds.join(' OR ')})`;
}

async function includeRows(db: Queryable, access: AccessPolicy, sources: StoredVersion[], rule: IncludeRule): Promise<StoredVersion[]> {
  const from = sources.filter((s) => rule.sourceType === '*' || s.type === rule.sourceType);
  if (!from.length) return [];
  const p = new SqlParams();
  const paramCond = rule.param === '*' ? '' : `AND x.param = ${p.add(rule.param)}`;
  const targetCond = rule.targetType ? `AND r.type = ${p.add(rule.targetType)}` : '';
  const sql = `SELECT DISTINCT r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content
      FROM idx_reference x JOIN resource r ON r.type = x.target_type AND r.id = x.target_id
     WHERE (x.res_type, x.res_id) IN (SELECT * FROM unnest(${p.add(from.map((s) => s.type))}::text[], ${p.add(from.map((s) => s.id))}::text[]))
       ${paramCond} ${targetCond} AND NOT r.deleted ${visibleAnyType(access, p, reachableTypes(rule.targetType))}`;
  return (await db.query<StoredVersion>(sql, p.values)).rows;
}

async function revincludeRows(db: Queryable, access: AccessPolicy, targets: StoredVersion[], rule: IncludeRule): Promise<StoredVersion[]> {
  const to = targets.filter((t) => !rule.targetType || t.type === rule.targetType);
  if (!to.length) return [];
  const p = new SqlParams();
  const typeCond = rule.sourceType === '*' ? '' : `AND x.res_type = ${p.add(rule.sourceType)}`;
  const paramCond = rule.param === '*' ? '' : `AND x.param = ${p.add(rule.param)}`;
  const sql = `SELECT DISTINCT r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content
      FROM idx_reference x JOIN resource r ON r.type = x.res_type AND r.id = x.res_id
     WHERE (x.target_type, x.target_id) IN (SELECT * FROM unnest(${p.add(to.map((t) => t.type))}::text[], ${p.add(to.map((t) => t.id))}::text[]))
       ${typeCond} ${paramCond} AND NOT r.deleted ${visibleAnyType(access, p, rule.sourceType === '*' ? getResourceTypes() : [rule.sourceType])}`;
  return (await db.query<StoredVersion>(sql, p.values)).rows;
}
