/**
 * SQL conditions comparing one index row with one search value, per parameter type. The row's
 * columns are reached through `col`, so the same code serves the per-type index tables and the
 * components of composite rows. Every value travels as a `$n` parameter.
 */
import { dateRange } from '../dates.ts';
import { badRequest } from '../outcomes.ts';
import { ID_RE, parseLocalReference } from '../references.ts';
import { normalizeString } from './normalize.ts';
import type { SqlParams } from './sql-params.ts';

/** Column name → qualified SQL column of the index row being tested. */
export type Col = (name: string) => string;

export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

/** "ge2020" → ["ge", "2020"]; a value without a known prefix is "eq". */
export function splitPrefix(value: string): [Prefix, string] {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && /^[\d+-.]/.test(value.slice(2))) return [p, value.slice(2)];
  if (/^[a-z]{2}[\d+-.]/.test(value)) throw badRequest(`Unknown search prefix "${value.slice(0, 2)}" in "${value}"`);
  return ['eq', value];
}

export function or(parts: string[]): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** Default string search: the normalised value starts with the normalised search text. */
export function stringCondition(value: string, modifier: string | undefined, col: Col, params: SqlParams): string {
  if (modifier === 'exact') return `${col('exact')} = ${params.add(value)}`;
  const norm = normalizeString(value);
  if (modifier === 'contains') return `${col('value')} LIKE ${params.add(`%${escapeLike(norm)}%`)}`;
  return `${col('value')} LIKE ${params.add(`${escapeLike(norm)}%`)}`;
}

/** `code`, `system|code`, `|code` (no system) or `system|` (any code of the system). */
export function tokenCondition(value: string, col: Col, params: SqlParams): string {
  const bar = value.indexOf('|');
  if (bar < 0) return `${col('code')} = ${params.add(value)}`;
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (!system && !code) throw badRequest('A token search value "|" needs a system or a code');
  if (!system) return `(${col('code')} = ${params.add(code)} AND ${col('system')} IS NULL)`;
  if (!code) return `${col('system')} = ${params.add(system)}`;
  return `(${col('code')} = ${params.add(code)} AND ${col('system')} = ${params.add(system)})`;
}

/** `:text`: each word of the search text starts a word of the coding's display or text. */
export function tokenTextCondition(value: string, col: Col, params: SqlParams): string {
  const words = normalizeString(value).split(' ').filter(Boolean);
  if (!words.length) throw badRequest(':text needs some text');
  return `(${words.map((w) => `(${col('text')} LIKE ${params.add(`${escapeLike(w)}%`)} OR ${col('text')} LIKE ${params.add(`% ${escapeLike(w)}%`)})`).join(' AND ')})`;
}

/** `:of-type`: `typeSystem|typeCode|value` on an Identifier. */
export function ofTypeCondition(value: string, col: Col, params: SqlParams): string {
  const parts = value.split('|');
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw badRequest(':of-type takes system|code|value');
  const cond = `${col('code')} = ${params.add(`${parts[1]}|${parts[2]}`)}`;
  return parts[0] ? `(${cond} AND ${col('system')} = ${params.add(parts[0])})` : cond;
}

/** References: `id`, `Type/id`, our own absolute URL (local), or any other URL / canonical. */
export function referenceCondition(value: string, typeModifier: string | undefined, col: Col, params: SqlParams): string {
  const local = parseLocalReference(value);
  if (local) {
    if (typeModifier && typeModifier !== local.type) return 'false';
    return `(${col('target_type')} = ${params.add(local.type)} AND ${col('target_id')} = ${params.add(local.id)})`;
  }
  if (ID_RE.test(value)) {
    // A bare id: any target type, or the one named by the :Type modifier.
    if (typeModifier) return `(${col('target_type')} = ${params.add(typeModifier)} AND ${col('target_id')} = ${params.add(value)})`;
    return `${col('target_id')} = ${params.add(value)}`;
  }
  if (/^[A-Za-z]+\/[^/]+$/.test(value)) throw badRequest(`Invalid reference "${value}"`);
  // Canonical references may carry a version (`url|1.0`); without one, any version matches.
  if (!value.includes('|')) return `(${col('url')} = ${params.add(value)} OR ${col('url')} LIKE ${params.add(`${escapeLike(value)}|%`)})`;
  return `${col('url')} = ${params.add(value)}`;
}

export function uriCondition(value: string, modifier: string | undefined, col: Col, params: SqlParams): string {
  if (modifier === 'below') return `${col('value')} LIKE ${params.add(`${escapeLike(value)}%`)}`;
  if (modifier === 'above') {
    // The stored URI is a prefix of the search value: compare against every prefix of it.
    const prefixes = [];
    for (let i = 1; i <= value.length; i++) if (i === value.length || value[i] === '/') prefixes.push(value.slice(0, i));
    return `${col('value')} = ANY(${params.add(prefixes)}::text[])`;
  }
  return `${col('value')} = ${params.add(value)}`;
}

/**
 * Date comparison of a stored range [low, high] with a search value and prefix, per the spec:
 * the search value is itself a range by its precision ("2024-03" is the whole month).
 */
export function dateCondition(raw: string, low: string, high: string, params: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  const range = dateRange(value);
  if (!range) throw badRequest(`Invalid date "${value}" in "${raw}"`);
  // Placeholders are added only when used: an unused $n has no type and fails the statement.
  let loP: string | undefined;
  let hiP: string | undefined;
  const at = {
    get lo() {
      return (loP ??= `${params.add(range.low)}::timestamptz`);
    },
    get hi() {
      return (hiP ??= `${params.add(range.high)}::timestamptz`);
    },
  };
  const { lo, hi } = prefix === 'eq' || prefix === 'ne' || prefix === 'ge' || prefix === 'le' ? at : { lo: '', hi: '' };
  switch (prefix) {
    case 'eq': return `(${low} >= ${lo} AND ${high} <= ${hi})`;
    case 'ne': return `NOT (${low} >= ${lo} AND ${high} <= ${hi})`;
    case 'gt': return `${high} > ${at.hi}`;
    case 'lt': return `${low} < ${at.lo}`;
    case 'ge': return `(${high} > ${hi} OR (${low} >= ${lo} AND ${high} <= ${hi}))`;
    case 'le': return `(${low} < ${lo} OR (${low} >= ${lo} AND ${high} <= ${hi}))`;
    case 'sa': return `${low} > ${at.hi}`;
    case 'eb': return `${high} < ${at.lo}`;
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
  const mantissa = value.split(/[eE]/)[0];
  const exp = /[eE]/.test(value) ? Number(value.split(/[eE]/)[1]) : 0;
  const decimals = (mantissa.split('.')[1]?.length ?? 0) - exp;
  const half = 0.5 * 10 ** -decimals;
  return [n - half, n + half];
}

export function numberCondition(raw: string, column: string, params: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  const [lo, hi] = numberRange(value);
  const n = Number(value);
  switch (prefix) {
    case 'eq': return `(${column} >= ${params.add(lo)} AND ${column} < ${params.add(hi)})`;
    case 'ne': return `NOT (${column} >= ${params.add(lo)} AND ${column} < ${params.add(hi)})`;
    case 'gt': case 'sa': return `${column} > ${params.add(n)}`;
    case 'lt': case 'eb': return `${column} < ${params.add(n)}`;
    case 'ge': return `${column} >= ${params.add(n)}`;
    case 'le': return `${column} <= ${params.add(n)}`;
    case 'ap': {
      const d = Math.abs(n) * 0.1;
      return `(${column} >= ${params.add(n - d)} AND ${column} <= ${params.add(n + d)})`;
    }
  }
}

/** `[prefix]number|system|code` (or `number||code`, matching the code or the unit text). */
export function quantityCondition(raw: string, col: Col, params: SqlParams): string {
  const [number, system, code] = raw.split('|');
  const conds = [numberCondition(number, col('value'), params)];
  if (system) conds.push(`${col('system')} = ${params.add(system)}`);
  if (code) conds.push(system ? `${col('code')} = ${params.add(code)}` : `(${col('code')} = ${params.add(code)} OR ${col('unit')} = ${params.add(code)})`);
  return `(${conds.join(' AND ')})`;
}
