/**
 * `_include` and `_revinclude` (with `:iterate` and `*`): the resources the page's matches refer
 * to, and those referring to them. Each included row passes the AccessPolicy like any other.
 */
import type { Queryable } from '../../db/database.ts';
import type { AccessPolicy } from '../../access/policy.ts';
import type { StoredVersion } from '../repo/repository.ts';
import { getResourceTypes } from '../definitions.ts';
import { newContext } from './sql.ts';
import { visibleSql } from './filters.ts';
import type { IncludeRule } from './parse.ts';

/** Rounds of `:iterate` after the first; enough for Appointment → PractitionerRole → Organization. */
const MAX_ITERATIONS = 3;

export async function runIncludes(
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
  // One round for every rule; further rounds only for :iterate rules, over what was just added.
  for (let round = 0; round <= MAX_ITERATIONS && frontier.length; round++) {
    const inc = round === 0 ? include : include.filter((r) => r.iterate);
    const rev = round === 0 ? revinclude : revinclude.filter((r) => r.iterate);
    if (!inc.length && !rev.length) break;
    const found: StoredVersion[] = [];
    for (const rule of inc) found.push(...(await includeRows(db, access, frontier, rule)));
    for (const rule of rev) found.push(...(await revincludeRows(db, access, frontier, rule)));
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

const COLUMNS = `r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content`;

async function includeRows(db: Queryable, access: AccessPolicy, sources: StoredVersion[], rule: IncludeRule): Promise<StoredVersion[]> {
  const from = sources.filter((s) => rule.sourceType === '*' || s.type === rule.sourceType);
  if (!from.length) return [];
  const ctx = newContext(access);
  const p = ctx.params;
  const conds = [
    `(x.res_type, x.res_id) IN (SELECT * FROM unnest(${p.add(from.map((s) => s.type))}::text[], ${p.add(from.map((s) => s.id))}::text[]))`,
    'NOT r.deleted',
  ];
  if (rule.param !== '*') conds.push(`x.param = ${p.add(rule.param)}`);
  if (rule.targetType) conds.push(`r.type = ${p.add(rule.targetType)}`);
  const visible = visibleSql(rule.targetType ? [rule.targetType] : getResourceTypes(), 'r', ctx);
  if (visible) conds.push(visible);
  const sql = `SELECT DISTINCT ${COLUMNS} FROM idx_reference x JOIN resource r ON r.type = x.target_type AND r.id = x.target_id WHERE ${conds.join(' AND ')}`;
  return (await db.query<StoredVersion>(sql, p.values)).rows;
}

async function revincludeRows(db: Queryable, access: AccessPolicy, targets: StoredVersion[], rule: IncludeRule): Promise<StoredVersion[]> {
  const to = targets.filter((t) => !rule.targetType || t.type === rule.targetType);
  if (!to.length) return [];
  const ctx = newContext(access);
  const p = ctx.params;
  const conds = [
    `(x.target_type, x.target_id) IN (SELECT * FROM unnest(${p.add(to.map((t) => t.type))}::text[], ${p.add(to.map((t) => t.id))}::text[]))`,
    'NOT r.deleted',
  ];
  if (rule.sourceType !== '*') conds.push(`x.res_type = ${p.add(rule.sourceType)}`);
  if (rule.param !== '*') conds.push(`x.param = ${p.add(rule.param)}`);
  const visible = visibleSql(rule.sourceType === '*' ? getResourceTypes() : [rule.sourceType], 'r', ctx);
  if (visible) conds.push(visible);
  const sql = `SELECT DISTINCT ${COLUMNS} FROM idx_reference x JOIN resource r ON r.type = x.res_type AND r.id = x.res_id WHERE ${conds.join(' AND ')}`;
  return (await db.query<StoredVersion>(sql, p.values)).rows;
}
