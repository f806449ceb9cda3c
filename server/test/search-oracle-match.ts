/**
 * The oracle's own reading of FHIR search semantics, written independently of the server's
 * SQL: values come from the `fhirpath` npm package evaluating the official SearchParameter
 * expressions, and are compared with search values here in plain JavaScript.
 */
import { doubleMetaphone } from 'double-metaphone';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

export type Values = unknown[];

export function evaluate(resource: unknown, expression: string): Values {
  return fhirpath.evaluate(resource as object, expression, undefined, r4 as never) as Values;
}

const norm = (s: string) => s.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();

/** The strings a string parameter matches against (HumanName and Address parts, or the text). */
export function stringsOf(v: any): string[] {
  if (typeof v === 'string') return [v];
  if (v && typeof v === 'object') {
    const parts = [v.text, v.family, ...(v.given ?? []), ...(v.prefix ?? []), ...(v.suffix ?? []), ...(v.line ?? []), v.city, v.district, v.state, v.postalCode, v.country];
    return parts.filter((s) => typeof s === 'string' && s);
  }
  return [];
}

export function matchString(values: Values, search: string): boolean {
  const q = norm(search);
  return values.flatMap(stringsOf).some((s) => norm(s).startsWith(q));
}

/** Words of the family and given names (or of a plain string) a phonetic parameter compares. */
export function phoneticWordsOf(v: any): string[] {
  const parts = typeof v === 'string' ? [v] : v && typeof v === 'object' ? [v.family, ...(v.given ?? [])] : [];
  return parts.filter((s) => typeof s === 'string').flatMap((s: string) => norm(s).match(/\p{L}+/gu) ?? []);
}

/** Sounds like: every word of the search shares a Double Metaphone code with some name word. */
export function matchPhonetic(values: Values, search: string): boolean {
  const codes = (w: string) => doubleMetaphone(w).filter(Boolean);
  const nameCodes = new Set(values.flatMap(phoneticWordsOf).flatMap(codes));
  const words = norm(search).match(/\p{L}+/gu) ?? [];
  return words.length > 0 && words.every((w) => codes(w).some((c) => nameCodes.has(c)));
}

/** [system, code] pairs of a token value. */
export function tokensOf(v: any): [string | undefined, string][] {
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return [[undefined, String(v)]];
  if (!v || typeof v !== 'object') return [];
  if (Array.isArray(v.coding)) return v.coding.filter((c: any) => c.code).map((c: any) => [c.system, c.code]);
  if (typeof v.code === 'string') return [[v.system, v.code]];
  if (typeof v.value === 'string') return [[v.system, v.value]];
  return [];
}

export function matchToken(values: Values, search: string): boolean {
  const bar = search.indexOf('|');
  const system = bar < 0 ? undefined : search.slice(0, bar);
  const code = bar < 0 ? search : search.slice(bar + 1);
  return values.flatMap(tokensOf).some(([s, c]) => {
    if (bar < 0) return c === code;
    if (!system) return c === code && !s;
    if (!code) return s === system;
    return s === system && c === code;
  });
}

/** Start and end (ms) of the time a date/dateTime/instant covers at its precision. */
export function rangeOf(value: string): [number, number] {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  if (!m) throw new Error(`oracle: bad date ${value}`);
  const [, y, mo, d, h, mi, s, f, z] = m;
  if (!mo) return [Date.UTC(+y, 0, 1), Date.UTC(+y + 1, 0, 1) - 1];
  if (!d) return [Date.UTC(+y, +mo - 1, 1), Date.UTC(+y, +mo, 1) - 1];
  if (!h) return [Date.UTC(+y, +mo - 1, +d), Date.UTC(+y, +mo - 1, +d + 1) - 1];
  const start = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${f ?? ''}${z ?? 'Z'}`);
  const width = s === undefined ? 60_000 : f === undefined ? 1000 : 1;
  return [start, start + width - 1];
}

export function datesOf(v: any): [number, number][] {
  if (typeof v === 'string') return [rangeOf(v)];
  if (v && typeof v === 'object' && (v.start || v.end)) {
    return [[v.start ? rangeOf(v.start)[0] : -Infinity, v.end ? rangeOf(v.end)[1] : Infinity]];
  }
  return [];
}

export function matchDate(values: Values, search: string): boolean {
  const prefix = /^(eq|ne|gt|lt|ge|le|sa|eb)/.exec(search)?.[1] ?? 'eq';
  const [lo, hi] = rangeOf(search.replace(/^(eq|ne|gt|lt|ge|le|sa|eb)/, ''));
  return values.flatMap(datesOf).some(([l, h]) => {
    const within = l >= lo && h <= hi;
    switch (prefix) {
      case 'eq': return within;
      case 'ne': return !within;
      case 'gt': return h > hi;
      case 'lt': return l < lo;
      case 'ge': return h > hi || within;
      case 'le': return l < lo || within;
      case 'sa': return l > hi;
      case 'eb': return h < lo;
    }
    return false;
  });
}

export function matchReference(values: Values, search: string): boolean {
  return values.some((v: any) => typeof v?.reference === 'string' && v.reference === search);
}

export function matchQuantity(values: Values, search: string): boolean {
  const prefix = /^(eq|ne|gt|lt|ge|le)/.exec(search)?.[1] ?? 'eq';
  const text = search.replace(/^(eq|ne|gt|lt|ge|le)/, '');
  const n = Number(text);
  const decimals = text.split('.')[1]?.length ?? 0;
  const half = 0.5 * 10 ** -decimals;
  return values.some((v: any) => {
    const x = typeof v === 'number' ? v : v?.value;
    if (typeof x !== 'number') return false;
    switch (prefix) {
      case 'eq': return x >= n - half && x < n + half;
      case 'ne': return !(x >= n - half && x < n + half);
      case 'gt': return x > n;
      case 'lt': return x < n;
      case 'ge': return x >= n;
      case 'le': return x <= n;
    }
    return false;
  });
}
