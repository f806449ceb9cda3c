/**
 * Composite search (`Observation?code-value-quantity=http://loinc.org|8480-6$gt100`): each `$`-
 * separated part is compared with its component, and all parts must match rows of the same
 * element (same `grp` in idx_composite).
 */
import { badRequest } from '../outcomes.ts';
import {
  dateCondition,
  numberCondition,
  or,
  quantityCondition,
  referenceCondition,
  stringCondition,
  tokenCondition,
  uriCondition,
  type Col,
} from './conditions.ts';
import { searchParameterByUrl } from './extract-composite.ts';
import type { ParamFilter } from './filter-types.ts';
import { newAlias, type SqlContext } from './filters.ts';
import type { SqlParams } from './sql-params.ts';

/** idx_composite keeps string and uri values in `str`; other columns keep their names. */
function columnsOf(alias: string, type: string): Col {
  const rename: Record<string, string> = type === 'string' || type === 'uri' ? { value: 'str' } : {};
  return (name) => `${alias}.${rename[name] ?? name}`;
}

function componentCondition(type: string, value: string, col: Col, p: SqlParams): string {
  switch (type) {
    case 'token': return tokenCondition(value, col, p);
    case 'quantity': return quantityCondition(value, col, p);
    case 'number': return numberCondition(value, col('value'), p);
    case 'date': return dateCondition(value, col('low'), col('high'), p);
    case 'string': return stringCondition(value, undefined, col, p);
    case 'uri': return uriCondition(value, undefined, col, p);
    case 'reference': return referenceCondition(value, undefined, col, p);
  }
  throw badRequest(`Composite components of type ${type} cannot be searched`);
}

export function compositeSql(f: ParamFilter, types: string[], a: string, ctx: SqlContext): string {
  if (f.modifier) throw badRequest(`Modifier :${f.modifier} is not supported on composite parameter "${f.code}"`);
  const components = (f.param.component ?? []).map((c) => searchParameterByUrl(c.definition as string));
  if (!components.length || components.some((c) => !c)) throw badRequest(`Composite parameter "${f.code}" cannot be searched`);
  const p = ctx.params;
  return or(
    f.values.map((value) => {
      const parts = value.split('$');
      if (parts.length !== components.length || parts.some((x) => !x)) {
        throw badRequest(`"${f.code}" takes ${components.length} values separated by $, not "${value}"`);
      }
      const aliases = parts.map(() => newAlias(ctx, 'c'));
      const [first] = aliases;
      const owner = types.length === 1 ? `${first}.res_type = ${p.add(types[0])}` : `${first}.res_type = ${a}.type`;
      const conds = parts.map((part, i) => {
        const c = aliases[i];
        const type = components[i]!.type as string;
        const own = `${c}.comp = ${p.add(i)} AND ${componentCondition(type, part, columnsOf(c, type), p)}`;
        if (i === 0) return `${owner} AND ${c}.res_id = ${a}.id AND ${c}.param = ${p.add(f.code)} AND ${own}`;
        return `${c}.res_type = ${first}.res_type AND ${c}.res_id = ${first}.res_id AND ${c}.param = ${first}.param AND ${c}.grp = ${first}.grp AND ${own}`;
      });
      return `EXISTS (SELECT 1 FROM ${aliases.map((c) => `idx_composite ${c}`).join(', ')} WHERE ${conds.join(' AND ')})`;
    }),
  );
}
