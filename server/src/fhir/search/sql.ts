/**
 * SearchRequest → parameterised SQL over the resource table and the index tables. Every value
 * travels as a `$n` parameter; only table and column names from fixed lists enter the text.
 */
import { dateRange } from '../dates.ts';
import { badRequest } from '../outcomes.ts';
import { parseLocalReference } from '../references.ts';
import { normalizeString } from './normalize.ts';
import type { SearchFilter, SearchRequest } from './parse.ts';

import { SqlParams } from './sql-params.ts';
import type { AccessPolicy } from '../../access/policy.ts';

export { SqlParams };

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

function splitPrefix(value: string): [Prefix, string] {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && /^[\d-]/.test(value.slice(2))) return [p, value.slice(2)];
  return ['eq', value];
}

/** `EXISTS` over one index table, for the resource aliased `r`. */
function exists(table: string, params: SqlParams, code: string, condition: string): string {
  return `EXISTS (SELECT 1 FROM ${table} x WHERE x.res_id = r.id AND x.res_type = r.type AND x.param = ${params.add(code)} AND (${condition}))`;
}

function missing(table: string, params: SqlParams, code: string, value: string): string {
  const any = `EXISTS (SELECT 1 FROM ${table} x WHERE x.res_id = r.id AND x.res_type = r.type AND x.param = ${params.add(code)})`;
  if (value === 'true') return `NOT ${any}`;
  if (value === 'false') return any;
  throw badRequest(`:missing takes true or false, not "${value}"`);
}

const TABLE_BY_TYPE: Record<string, string> = {
  string: 'idx_string',
  token: 'idx_token',
  reference: 'idx_reference',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  uri: 'idx_uri',
};

/** SQL predicate for one filter (its values OR-ed). */
export function filterSql(f: SearchFilter, params: SqlParams): string {
  const type = f.param.type as string;
  if (f.code === '_id') return idFilter(f, params);
  if (f.code === '_lastUpdated') return or(f.values.map((v) => dateCondition(v, 'r.last_updated', 'r.last_updated', params)));
  const table = TABLE_BY_TYPE[type];
  if (!table) throw badRequest(`Search parameter "${f.code}" of type ${type} is not supported yet`);
  if (f.modifier === 'missing') return missing(table, params, f.code, f.values[0] ?? '');
  switch (type) {
    case 'string':
      return exists(table, params, f.code, or(f.values.map((v) => stringCondition(v, f.modifier, params))));
    case 'token': {
      if (f.modifier === 'not') {
        return `NOT ${exists(table, params, f.code, or(f.values.map((v) => tokenCondition(v, undefined, params))))}`;
      }
      if (f.modifier === 'text') {
        return exists(table, params, f.code, or(f.values.map((v) => `x.text LIKE ${params.add(likePrefix(normalizeString(v)))}`)));
      }
      if (f.modifier === 'of-type') {
        return exists(table, params, `${f.code}:of-type`, or(f.values.map((v) => ofTypeCondition(v, params))));
      }
      if (f.modifier) throw badRequest(`Modifier :${f.modifier} is not supported on token parameter "${f.code}"`);
      return exists(table, params, f.code, or(f.values.map((v) => tokenCondition(v, undefined, params))));
    }
    case 'reference': {
      if (f.modifier === 'identifier') {
        return exists('idx_token', params, `${f.code}:identifier`, or(f.values.map((v) => tokenCondition(v, undefined, params))));
      }
      return exists(table, params, f.code, or(f.values.map((v) => referenceCondition(v, f.modifier, params))));
    }
    case 'date':
      if (f.modifier) throw badRequest(`Modifier :${f.modifier} is not supported on date parameter "${f.code}"`);
      return exists(table, params, f.code, or(f.values.map((v) => dateCondition(v, 'x.low', 'x.high', params))));
    case 'number':
      return exists(table, params, f.code, or(f.values.map((v) => numberCondition(v, 'x.value', params))));
    case 'quantity':
      return exists(table, params, f.code, or(f.values.map((v) => quantityCondition(v, params))));
    case 'uri':
      return exists(table, params, f.code, or(f.values.map((v) => uriCondition(v, f.modifier, params))));
  }
  throw badRequest(`Search parameter "${f.code}" is not supported`);
}

function or(parts: string[]): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

function likePrefix(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

function likeContains(s: string): string {
  return '%' + s.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

function idFilter(f: SearchFilter, params: SqlParams): string {
  const cond = `r.id = ANY(${params.add(f.values)}::text[])`;
  return f.modifier === 'not' ? `NOT ${cond}` : cond;
}

function stringCondition(value: string, modifier: string | undefined, params: SqlParams): string {
  if (modifier === 'exact') return `x.exact = ${params.add(value)}`;
  if (modifier === 'contains') return `x.value LIKE ${params.add(likeContains(normalizeString(value)))}`;
  if (modifier) throw badRequest(`Modifier :${modifier} is not supported on string parameters`);
  return `x.value LIKE ${params.add(likePrefix(normalizeString(value)))}`;
}

function tokenCondition(value: string, _modifier: string | undefined, params: SqlParams): string {
  const bar = value.indexOf('|');
  if (bar < 0) return `x.code = ${params.add(value)}`;
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (!system && !code) throw badRequest('A token search value "|" needs a system or a code');
  if (!system) return `(x.code = ${params.add(code)} AND x.system IS NULL)`;
  if (!code) return `x.system = ${params.add(system)}`;
  return `(x.code = ${params.add(code)} AND x.system = ${params.add(system)})`;
}

function ofTypeCondition(value: string, params: SqlParams): string {
  const parts = value.split('|');
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw badRequest(':of-type takes system|code|value');
  const cond = `x.code = ${params.add(`${parts[1]}|${parts[2]}`)}`;
  return parts[0] ? `(${cond} AND x.system = ${params.add(parts[0])})` : cond;
}

function referenceCondition(value: string, modifier: string | undefined, params: SqlParams): string {
  const local = parseLocalReference(value);
  if (local) return `(x.target_type = ${params.add(local.type)} AND x.target_id = ${params.add(local.id)})`;
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    // A bare id: any target type, or the one named by the :Type modifier.
    if (modifier) return `(x.target_type = ${params.add(modifier)} AND x.target_id = ${params.add(value)})`;
    return `x.target_id = ${params.add(value)}`;
  }
  return `x.url = ${params.add(value)}`;
}

function uriCondition(value: string, modifier: string | undefined, params: SqlParams): string {
  if (modifier === 'below') return `x.value LIKE ${params.add(value.replace(/[\\%_]/g, (c) => '\\' + c) + '%')}`;
  if (modifier === 'above') return `${params.add(value)} LIKE (replace(replace(x.value, '%', '\\%'), '_', '\\_') || '%')`;
  if (modifier) throw badRequest(`Modifier :${modifier} is not supported on uri parameters`);
  return `x.value = ${params.add(value)}`;
}

/** Date comparison of a stored range [low, high] against a search value with prefix. */
export function dateCondition(raw: string, low: string, high: string, params: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  const range = dateRange(value);
  if (!range) throw badRequest(`Invalid date "${value}"`);
  const lo = `${params.add(range.low)}::timestamptz`;
  const hi = `${params.add(range.high)}::timestamptz`;
  const within = `(${low} >= ${lo} AND ${high} <= ${hi})`;
  switch (prefix) {
    case 'eq': return within;
    case 'ne': return `NOT ${within}`;
    case 'gt': return `${high} > ${hi}`;
    case 'lt': return `${low} < ${lo}`;
    case 'ge': return `(${high} > ${hi} OR ${within})`;
    case 'le': return `(${low} < ${lo} OR ${within})`;
    case 'sa': return `${low} > ${hi}`;
    case 'eb': return `${high} < ${lo}`;
    case 'ap': {
      // Approximately: the value's range widened by 10% of its distance from now, overlapping.
      const now = Date.now();
      const gap = Math.max(Math.abs(now - Date.parse(range.low)), 24 * 3600_000) * 0.1;
      const wlo = params.add(new Date(Date.parse(range.low) - gap).toISOString());
      const whi = params.add(new Date(Date.parse(range.high) + gap).toISOString());
      return `(${low} <= ${whi}::timestamptz AND ${high} >= ${wlo}::timestamptz)`;
    }
  }
}

/** Implicit range of a decimal by its precision: 100 covers [99.5, 100.5). */
function numberRange(value: string): [number, number] {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value)) throw badRequest(`Invalid number "${value}"`);
  const n = Number(value);
  const decimals = /[eE]/.test(value) ? 0 : (value.split('.')[1]?.length ?? 0);
  const half = 0.5 * 10 ** -decimals;
  return [n - half, n + half];
}

function numberCondition(raw: string, column: string, params: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  const [lo, hi] = numberRange(value);
  const exact = params.add(Number(value));
  switch (prefix) {
    case 'eq': return `(${column} >= ${params.add(lo)} AND ${column} < ${params.add(hi)})`;
    case 'ne': return `NOT (${column} >= ${params.add(lo)} AND ${column} < ${params.add(hi)})`;
    case 'gt': case 'sa': return `${column} > ${exact}`;
    case 'lt': case 'eb': return `${column} < ${exact}`;
    case 'ge': return `${column} >= ${exact}`;
    case 'le': return `${column} <= ${exact}`;
    case 'ap': {
      const n = Number(value);
      const d = Math.abs(n) * 0.1;
      return `(${column} >= ${params.add(n - d)} AND ${column} <= ${params.add(n + d)})`;
    }
  }
}

function quantityCondition(raw: string, params: SqlParams): string {
  const [number, system, code] = raw.split('|');
  const conds = [numberCondition(number, 'x.value', params)];
  if (system) conds.push(`x.system = ${params.add(system)}`);
  if (code) conds.push(`(x.code = ${params.add(code)} OR x.unit = ${params.add(code)})`);
  return `(${conds.join(' AND ')})`;
}

export interface SearchSql {
  sql: string;
  params: unknown[];
}

/** The WHERE clause (without "WHERE") selecting matches of `req` from `resource r`. */
export function whereSql(req: SearchRequest, params: SqlParams, access: AccessPolicy): string {
  const conds = [`r.type = ${params.add(req.resourceType)}`, 'NOT r.deleted'];
  const visible = access.visibleRows(req.resourceType, 'r', params);
  if (visible) conds.push(`(${visible})`);
  if (req.compartment) conds.push(`r.compartments @> ARRAY[${params.add(req.compartment)}::text]`);
  for (const f of req.filters) conds.push(filterSql(f, params));
  return conds.join(' AND ');
}

function orderSql(req: SearchRequest, params: SqlParams): string {
  const keys: string[] = [];
  for (const s of req.sort) {
    const dir = s.descending ? 'DESC' : 'ASC';
    if (s.code === '_id') keys.push(`r.id ${dir}`);
    else if (s.code === '_lastUpdated') keys.push(`r.last_updated ${dir}`);
    else {
      const p = req.filters.find((f) => f.code === s.code)?.param;
      const type = p?.type;
      const code = params.add(s.code);
      // Sort by the smallest (ascending) or largest (descending) indexed value.
      const agg = s.descending ? 'max' : 'min';
      if (type === 'date' || (!type && isDateParam(req.resourceType, s.code))) {
        keys.push(`(SELECT ${agg}(${s.descending ? 'x.high' : 'x.low'}) FROM idx_date x WHERE x.res_id = r.id AND x.res_type = r.type AND x.param = ${code}) ${dir} NULLS LAST`);
      } else {
        keys.push(`(SELECT ${agg}(x.value) FROM idx_string x WHERE x.res_id = r.id AND x.res_type = r.type AND x.param = ${code}) ${dir} NULLS LAST`);
      }
    }
  }
  keys.push('r.last_updated DESC', 'r.id');
  return keys.join(', ');
}

import { searchParametersOf } from '../definitions.ts';
function isDateParam(resourceType: string, code: string): boolean {
  return searchParametersOf(resourceType)[code]?.type === 'date';
}

export function searchSql(req: SearchRequest, access: AccessPolicy): SearchSql {
  const params = new SqlParams();
  const where = whereSql(req, params, access);
  const order = orderSql(req, params);
  const limit = params.add(req.count + 1);
  const offset = params.add(req.offset);
  return {
    sql: `SELECT r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content FROM resource r WHERE ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`,
    params: params.values,
  };
}

export function countSql(req: SearchRequest, access: AccessPolicy): SearchSql {
  const params = new SqlParams();
  const where = whereSql(req, params, access);
  return { sql: `SELECT count(*)::int AS n FROM resource r WHERE ${where}`, params: params.values };
}
