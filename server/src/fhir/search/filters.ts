/**
 * SearchFilter → SQL predicate over a resource-table alias. Plain parameters become semi-joins
 * (EXISTS) on their index table; chains and `_has` join idx_reference to a further resource alias,
 * which (like every resource alias) is narrowed by the AccessPolicy's `visibleRows`.
 */
import type { AccessPolicy } from '../../access/policy.ts';
import { badRequest } from '../outcomes.ts';
import {
  dateCondition,
  numberCondition,
  ofTypeCondition,
  or,
  quantityCondition,
  referenceCondition,
  stringCondition,
  tokenCondition,
  tokenTextCondition,
  uriCondition,
  type Col,
} from './conditions.ts';
import { compositeSql } from './composite.ts';
import type { ChainFilter, HasFilter, ParamFilter, SearchFilter } from './filter-types.ts';
import type { SqlParams } from './sql-params.ts';
import { PHONETIC_PARAM, phoneticQueryCodes } from './phonetic.ts';
import { listSql, nearSql } from './special.ts';
import { stringRowsOf, type StringRows } from './string-coverage.ts';
import { nearMatchSql } from './text.ts';

/** State shared while one statement is built: its parameters, the policy, fresh alias numbers. */
export interface SqlContext {
  params: SqlParams;
  access: AccessPolicy;
  aliases: number;
}

export function newAlias(ctx: SqlContext, prefix: string): string {
  return `${prefix}${++ctx.aliases}`;
}

export const TABLE_BY_TYPE: Record<string, string> = {
  string: 'idx_string',
  token: 'idx_token',
  reference: 'idx_reference',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  uri: 'idx_uri',
};

/** `alias.type = …` for the types a resource alias may hold (one type: a plain equality). */
export function typeSql(types: string[], alias: string, ctx: SqlContext): string {
  return types.length === 1 ? `${alias}.type = ${ctx.params.add(types[0])}` : `${alias}.type = ANY(${ctx.params.add(types)}::text[])`;
}

/**
 * The access policy's row condition for a resource alias that may hold any of `types`
 * (undefined when nothing is hidden). Types without a limit pass as they are.
 */
export function visibleSql(types: string[], alias: string, ctx: SqlContext): string | undefined {
  const limited: [string, string][] = [];
  for (const t of types) {
    const v = ctx.access.visibleRows(t, alias, ctx.params);
    if (v) limited.push([t, v]);
  }
  if (!limited.length) return undefined;
  if (types.length === 1) return `(${limited[0][1]})`;
  const open = `${alias}.type <> ALL(${ctx.params.add(limited.map(([t]) => t))}::text[])`;
  return `(${open} OR ${limited.map(([t, v]) => `(${alias}.type = ${ctx.params.add(t)} AND (${v}))`).join(' OR ')})`;
}

/** Conditions every live, visible resource alias carries. */
export function resourceSql(types: string[], alias: string, ctx: SqlContext): string {
  const conds = [typeSql(types, alias, ctx), `NOT ${alias}.deleted`];
  const visible = visibleSql(types, alias, ctx);
  if (visible) conds.push(visible);
  return conds.join(' AND ');
}

/** Predicate that resource alias `a` (of one of `types`) matches filter `f`. */
export function filterSql(f: SearchFilter, types: string[], a: string, ctx: SqlContext): string {
  switch (f.kind) {
    case 'param': return paramSql(f, types, a, ctx);
    case 'text': return nearMatchSql(f, types, a, ctx);
    case 'chain': return chainSql(f, types, a, ctx);
    case 'has': return hasSql(f, types, a, ctx);
    case 'list': return listSql(f, types, a, ctx);
    case 'near': return nearSql(f, a, ctx);
  }
}

/** EXISTS over the index rows of parameter `code` belonging to resource alias `a`. */
export function indexExists(table: string, code: string, types: string[], a: string, ctx: SqlContext, cond: (col: Col) => string): string {
  const x = newAlias(ctx, 'x');
  const owner = types.length === 1 ? `${x}.res_type = ${ctx.params.add(types[0])}` : `${x}.res_type = ${a}.type`;
  const rows = table === 'idx_string' ? stringRowsSql(code, types, x, ctx) : `${x}.param = ${ctx.params.add(code)}`;
  const c = cond((name) => `${x}.${name}`);
  return `EXISTS (SELECT 1 FROM ${table} ${x} WHERE ${owner} AND ${x}.res_id = ${a}.id AND ${rows}${c === 'true' ? '' : ` AND ${c}`})`;
}

/**
 * The idx_string rows of parameter `code` (alias `x`): its own, or, for a narrow parameter such as
 * `family`, the wide parameter's rows of its part (see string-coverage.ts). Always an equality on
 * `param`, so the search stays one index range. Types that store it differently get a branch each.
 */
export function stringRowsSql(code: string, types: string[], x: string, ctx: SqlContext): string {
  const p = ctx.params;
  const sql = ({ param, part }: StringRows) => (part ? `${x}.param = ${p.add(param)} AND ${x}.part = ${p.add(part)}` : `${x}.param = ${p.add(param)}`);
  const each = types.map((t) => stringRowsOf(t, code));
  if (each.every((r) => r.param === each[0].param && r.part === each[0].part)) return sql(each[0]);
  return `(${types.map((t, i) => `(${x}.res_type = ${p.add(t)} AND ${sql(each[i])})`).join(' OR ')})`;
}

function paramSql(f: ParamFilter, types: string[], a: string, ctx: SqlContext): string {
  const p = ctx.params;
  const type = f.param.type as string;
  if (f.code === '_id') {
    if (f.modifier === 'missing') return f.values[0] === 'true' ? 'false' : 'true';
    const cond = `${a}.id = ANY(${p.add(f.values)}::text[])`;
    return f.modifier === 'not' ? `NOT ${cond}` : cond;
  }
  if (f.code === '_lastUpdated') {
    if (f.modifier === 'missing') return f.values[0] === 'true' ? 'false' : 'true';
    return or(f.values.map((v) => dateCondition(v, `${a}.last_updated`, `${a}.last_updated`, p)));
  }
  if (type === 'composite') return compositeSql(f, types, a, ctx);
  const table = TABLE_BY_TYPE[type];
  if (!table) throw badRequest(`Search parameter "${f.code}" (${type}) cannot be searched`);
  const exists = (code: string, cond: (col: Col) => string, tbl = table) => indexExists(tbl, code, types, a, ctx, cond);
  if (f.modifier === 'missing') {
    const any = exists(f.code, () => 'true');
    return f.values[0] === 'true' ? `NOT ${any}` : any;
  }
  switch (type) {
    case 'string':
      if (f.code === PHONETIC_PARAM && f.modifier !== 'exact') return phoneticSql(f, exists, p);
      return exists(f.code, (col) => or(f.values.map((v) => stringCondition(v, f.modifier, col, p))));
    case 'token':
      return tokenSql(f, exists, p);
    case 'reference':
      if (f.modifier === 'identifier') {
        return exists(`${f.code}:identifier`, (col) => or(f.values.map((v) => tokenCondition(v, col, p))), 'idx_token');
      }
      return exists(f.code, (col) => or(f.values.map((v) => referenceCondition(v, f.modifier, col, p))));
    case 'date':
      return exists(f.code, (col) => or(f.values.map((v) => dateCondition(v, col('low'), col('high'), p))));
    case 'number':
      return exists(f.code, (col) => or(f.values.map((v) => numberCondition(v, col('value'), p))));
    case 'quantity':
      return exists(f.code, (col) => or(f.values.map((v) => quantityCondition(v, col, p))));
    case 'uri':
      return exists(f.code, (col) => or(f.values.map((v) => uriCondition(v, f.modifier, col, p))));
  }
  throw badRequest(`Search parameter "${f.code}" (${type}) cannot be searched`);
}

type Exists = (code: string, cond: (col: Col) => string, table?: string) => string;

/** Sounds-like: each word of a value must match some phonetic row (values OR-ed). */
function phoneticSql(f: ParamFilter, exists: Exists, p: SqlParams): string {
  return or(
    f.values.map((value) => {
      const words = phoneticQueryCodes(value).map((codes) =>
        codes.length ? exists(f.code, (col) => `${col('value')} = ANY(${p.add(codes)}::text[])`) : 'false',
      );
      return words.length === 1 ? words[0] : `(${words.join(' AND ')})`;
    }),
  );
}

function tokenSql(f: ParamFilter, exists: Exists, p: SqlParams): string {
  const values = (col: Col) => or(f.values.map((v) => tokenCondition(v, col, p)));
  switch (f.modifier) {
    case undefined:
      return exists(f.code, values);
    case 'not':
      // Per the spec, :not also matches resources with no value for the parameter at all.
      return `NOT ${exists(f.code, values)}`;
    case 'text':
      return exists(f.code, (col) => or(f.values.map((v) => tokenTextCondition(v, col, p))));
    case 'of-type':
      return exists(`${f.code}:of-type`, (col) => or(f.values.map((v) => ofTypeCondition(v, col, p))));
    case 'in':
    case 'not-in': {
      const inSet = exists(f.code, (col) => valueSetCondition(f, col, p));
      return f.modifier === 'in' ? inSet : `NOT ${inSet}`;
    }
  }
  throw badRequest(`Modifier :${f.modifier} is not supported on token parameter "${f.code}"`);
}

/** Codes of the ValueSet named by `:in`/`:not-in`, grouped by system. */
function valueSetCondition(f: ParamFilter, col: Col, p: SqlParams): string {
  const codes = f.valueSetCodes;
  if (!codes) throw new Error(`ValueSet of "${f.key}" was not resolved before building SQL`);
  const whole = codes.filter((c) => c.code === undefined).map((c) => c.system);
  const bySystem = new Map<string | null, string[]>();
  for (const c of codes) if (c.code !== undefined) bySystem.set(c.system, [...(bySystem.get(c.system) ?? []), c.code]);
  const parts: string[] = [];
  for (const s of whole) if (s) parts.push(`${col('system')} = ${p.add(s)}`);
  for (const [system, list] of bySystem) {
    const sys = system === null ? `${col('system')} IS NULL` : `${col('system')} = ${p.add(system)}`;
    parts.push(`(${sys} AND ${col('code')} = ANY(${p.add(list)}::text[]))`);
  }
  return parts.length ? or(parts) : 'false';
}

/** Forward chain: a reference of `a` points at a live, visible target matching `f.next`. */
function chainSql(f: ChainFilter, types: string[], a: string, ctx: SqlContext): string {
  const x = newAlias(ctx, 'x');
  const b = newAlias(ctx, 'r');
  const owner = types.length === 1 ? `${x}.res_type = ${ctx.params.add(types[0])}` : `${x}.res_type = ${a}.type`;
  return `EXISTS (SELECT 1 FROM idx_reference ${x} JOIN resource ${b} ON ${b}.type = ${x}.target_type AND ${b}.id = ${x}.target_id
     WHERE ${owner} AND ${x}.res_id = ${a}.id AND ${x}.param = ${ctx.params.add(f.code)}
       AND ${resourceSql(f.targetTypes, b, ctx)} AND ${filterSql(f.next, f.targetTypes, b, ctx)})`;
}

/** Reverse chain: some live, visible `sourceType` resource refers to `a` and matches `f.next`. */
function hasSql(f: HasFilter, types: string[], a: string, ctx: SqlContext): string {
  const x = newAlias(ctx, 'x');
  const s = newAlias(ctx, 'r');
  const target = types.length === 1 ? `${x}.target_type = ${ctx.params.add(types[0])}` : `${x}.target_type = ${a}.type`;
  return `EXISTS (SELECT 1 FROM idx_reference ${x} JOIN resource ${s} ON ${s}.type = ${x}.res_type AND ${s}.id = ${x}.res_id
     WHERE ${target} AND ${x}.target_id = ${a}.id AND ${x}.res_type = ${ctx.params.add(f.sourceType)} AND ${x}.param = ${ctx.params.add(f.refParam)}
       AND ${resourceSql([f.sourceType], s, ctx)} AND ${filterSql(f.next, [f.sourceType], s, ctx)})`;
}
