/**
 * Sort order and keyset paging. A search sorts by its `_sort` keys (or the near-match rank, or
 * the distance from a `near` point), always ending in the resource's identity (type and id,
 * ascending) so the order is total; with none of those, identity alone is the order. A page
 * starts strictly after (or, for "previous", before) the sort-key values of the row at its edge,
 * so pages stay correct while rows are added or removed and no OFFSET scan is ever needed.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes.ts';
import type { SearchRequest } from './parse.ts';
import type { NearFilter, TextFilter } from './filter-types.ts';
import { stringRowsSql, type SqlContext } from './filters.ts';
import { nearDistanceSql } from './special.ts';
import { nearRankSql } from './text.ts';

export type KeyKind = 'text' | 'timestamptz' | 'numeric' | 'float8';

export interface SortKey {
  expr: string;
  descending: boolean;
  kind: KeyKind;
  /** Plain columns are never null; subquery keys are null for resources without a value. */
  nullable: boolean;
}

/** Per parameter type: index table, and the column giving the ascending/descending key. */
const SORT_SOURCES: Record<string, { table: string; asc: string; desc: string; kind: KeyKind }> = {
  string: { table: 'idx_string', asc: 'value', desc: 'value', kind: 'text' },
  token: { table: 'idx_token', asc: 'code', desc: 'code', kind: 'text' },
  reference: { table: 'idx_reference', asc: "coalesce(x.target_type || '/' || x.target_id, x.url)", desc: "coalesce(x.target_type || '/' || x.target_id, x.url)", kind: 'text' },
  date: { table: 'idx_date', asc: 'low', desc: 'high', kind: 'timestamptz' },
  number: { table: 'idx_number', asc: 'value', desc: 'value', kind: 'numeric' },
  quantity: { table: 'idx_quantity', asc: 'value', desc: 'value', kind: 'numeric' },
  uri: { table: 'idx_uri', asc: 'value', desc: 'value', kind: 'text' },
};

/** Key of one parameter: its smallest value ascending, its largest descending (per the spec). */
function paramKey(type: string, param: SearchParameter, descending: boolean, ctx: SqlContext): SortKey {
  const src = SORT_SOURCES[param.type as string];
  if (!src) throw badRequest(`Cannot sort on "${param.code}"`);
  const column = descending ? src.desc : src.asc;
  const value = column.includes('x.') ? column : `x.${column}`;
  // A narrow string parameter's values are a wider one's rows of its part (string-coverage.ts).
  const rowsOfParam = src.table === 'idx_string' ? stringRowsSql(param.code as string, [type], 'x', ctx) : `x.param = ${ctx.params.add(param.code)}`;
  const expr = `(SELECT ${descending ? 'max' : 'min'}(${value}) FROM ${src.table} x WHERE x.res_type = r.type AND x.res_id = r.id AND ${rowsOfParam})`;
  return { expr, descending, kind: src.kind, nullable: true };
}

export function sortKeys(req: SearchRequest, ctx: SqlContext): SortKey[] {
  const multiType = !!req.otherTypes?.length;
  const keys: SortKey[] = [];
  for (const s of req.sort) {
    if (s.code === '_id') keys.push({ expr: 'r.id', descending: s.descending, kind: 'text', nullable: false });
    else if (s.code === '_lastUpdated') keys.push({ expr: 'r.last_updated', descending: s.descending, kind: 'timestamptz', nullable: false });
    else if (s.param) keys.push(paramKey(req.resourceType, s.param, s.descending, ctx));
  }
  const text = req.filters.find((f): f is TextFilter => f.kind === 'text');
  if (!keys.length && text) keys.push({ expr: nearRankSql(text, 'r', ctx), descending: true, kind: 'float8', nullable: true });
  const near = req.filters.find((f): f is NearFilter => f.kind === 'near');
  if (!keys.length && near) keys.push({ expr: nearDistanceSql(near, 'r', ctx), descending: false, kind: 'float8', nullable: true });
  // Identity last, ascending: with no other key the order is the primary key's (type, id), which
  // lets a page of a selective search visit only the rows it returns (driven.ts).
  if (multiType) keys.push({ expr: 'r.type', descending: false, kind: 'text', nullable: false });
  if (!keys.some((k) => k.expr === 'r.id')) keys.push({ expr: 'r.id', descending: false, kind: 'text', nullable: false });
  return keys;
}

/** A stable description of the key list, so a cursor is not used with another sort. */
export function sortSignature(req: SearchRequest, keys: SortKey[]): string {
  return [req.sort.map((s) => (s.descending ? '-' : '') + s.code).join(','), keys.map((k) => k.kind[0] + (k.descending ? 'd' : 'a')).join('')].join(';');
}

/** ORDER BY for the keys; `reverse` walks backwards (for a "previous" page). Nulls sort last. */
export function orderBySql(keys: SortKey[], reverse: boolean): string {
  return keys
    .map((k) => {
      const desc = k.descending !== reverse;
      const nulls = k.nullable ? (reverse ? ' NULLS FIRST' : ' NULLS LAST') : '';
      return `${k.expr} ${desc ? 'DESC' : 'ASC'}${nulls}`;
    })
    .join(', ');
}

/**
 * Rows strictly after the row whose key values are `values` in the (possibly reversed) order.
 * Keys that are plain columns sorted one way become a row comparison the index can serve.
 */
export function keysetSql(keys: SortKey[], values: (string | null)[], reverse: boolean, ctx: SqlContext): string {
  if (values.length !== keys.length) throw badRequest('The _cursor does not belong to this search');
  // Each value becomes one parameter, added only when the SQL uses it.
  const placeholders = new Map<number, string>();
  const lit = (i: number) => {
    if (!placeholders.has(i)) placeholders.set(i, `${ctx.params.add(values[i])}::${keys[i].kind}`);
    return placeholders.get(i) as string;
  };
  const allColumns = keys.every((k) => !k.nullable) && keys.every((k) => k.descending === keys[0].descending);
  if (allColumns) {
    if (values.some((v) => v === null)) throw badRequest('The _cursor does not belong to this search');
    const op = keys[0].descending !== reverse ? '<' : '>';
    return `(${keys.map((k) => k.expr).join(', ')}) ${op} (${keys.map((_, i) => lit(i)).join(', ')})`;
  }
  const alternatives: string[] = [];
  const equal: string[] = [];
  keys.forEach((k, i) => {
    const last = i === keys.length - 1;
    const desc = k.descending !== reverse;
    const nullsLast = !reverse;
    const v = values[i];
    let after: string;
    let same: string;
    if (v === null) {
      // Nulls sit at one end: after a null come only non-nulls (nulls first) or nothing.
      after = nullsLast ? 'false' : `${k.expr} IS NOT NULL`;
      same = `${k.expr} IS NULL`;
    } else {
      const cmp = `${k.expr} ${desc ? '<' : '>'} ${lit(i)}`;
      after = k.nullable && nullsLast ? `(${cmp} OR ${k.expr} IS NULL)` : cmp;
      same = last ? '' : `${k.expr} = ${lit(i)}`;
    }
    alternatives.push([...equal, after].join(' AND '));
    equal.push(same);
  });
  return `(${alternatives.map((a) => `(${a})`).join(' OR ')})`;
}
