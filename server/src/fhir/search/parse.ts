/**
 * Search URL parameters → a SearchRequest. Unknown parameters are collected (reported under
 * `Prefer: handling=lenient`, refused under `handling=strict`); malformed values are 400.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { searchParametersOf } from '../definitions.ts';
import { badRequest } from '../outcomes.ts';

export type QueryParams = Record<string, string | string[] | undefined>;

export interface SearchFilter {
  code: string;
  param: SearchParameter;
  modifier?: string;
  /** Values joined by OR (the comma-separated list of one parameter). */
  values: string[];
}

export interface SortRule {
  code: string;
  descending: boolean;
}

export interface IncludeRule {
  sourceType: string;
  param: string;
  targetType?: string;
  iterate: boolean;
}

export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  count: number;
  offset: number;
  sort: SortRule[];
  total?: 'none' | 'estimate' | 'accurate';
  summary?: 'true' | 'text' | 'data' | 'count' | 'false';
  elements?: string[];
  include: IncludeRule[];
  revinclude: IncludeRule[];
  /** Parameters we did not understand (ignored under lenient handling). */
  unknown: string[];
  /** Compartment search: only resources in this compartment (e.g. "Patient/123"). */
  compartment?: string;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

/** Result parameters, handled by the engine itself rather than as filters. */
const RESULT_PARAMS = new Set([
  '_count', '_offset', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude',
  '_format', '_pretty', '_cursor', '_contained', '_containedType',
]);

/** Splits a comma-separated parameter value, honouring `\,` escapes. */
export function splitValues(value: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      current += value[++i];
    } else if (ch === ',') {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

function all(query: QueryParams, key: string): string[] {
  const v = query[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function parseCount(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`_count must be a non-negative integer, not "${raw}"`);
  return Math.min(n, MAX_COUNT);
}

function parseInclude(raw: string, iterate: boolean): IncludeRule {
  const parts = raw.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw badRequest(`Invalid include "${raw}": expected ResourceType:parameter[:TargetType]`);
  }
  return { sourceType: parts[0], param: parts[1], targetType: parts[2], iterate };
}

export function parseSearch(resourceType: string, query: QueryParams): SearchRequest {
  const params = searchParametersOf(resourceType);
  const req: SearchRequest = {
    resourceType,
    filters: [],
    count: parseCount(all(query, '_count')[0], DEFAULT_COUNT),
    offset: parseCount(all(query, '_offset')[0], 0),
    sort: [],
    include: [],
    revinclude: [],
    unknown: [],
  };
  for (const [key] of Object.entries(query)) {
    const [code, modifier] = splitKey(key);
    if (RESULT_PARAMS.has(code)) continue;
    const param = params[code];
    if (!param) {
      req.unknown.push(key);
      continue;
    }
    for (const value of all(query, key)) {
      req.filters.push({ code, param, modifier, values: splitValues(value) });
    }
  }
  for (const s of all(query, '_sort').flatMap((v) => v.split(','))) {
    if (!s) continue;
    const descending = s.startsWith('-');
    const code = descending ? s.slice(1) : s;
    if (!params[code]) throw badRequest(`Unknown _sort parameter "${code}" for ${resourceType}`);
    req.sort.push({ code, descending });
  }
  const total = all(query, '_total')[0];
  if (total !== undefined) {
    if (!['none', 'estimate', 'accurate'].includes(total)) throw badRequest(`_total must be none, estimate or accurate`);
    req.total = total as SearchRequest['total'];
  }
  const summary = all(query, '_summary')[0];
  if (summary !== undefined) {
    if (!['true', 'text', 'data', 'count', 'false'].includes(summary)) throw badRequest('_summary must be true, text, data, count or false');
    req.summary = summary as SearchRequest['summary'];
  }
  const elements = all(query, '_elements')[0];
  if (elements) req.elements = elements.split(',').map((e) => e.trim()).filter(Boolean);
  for (const key of Object.keys(query)) {
    const [code, modifier] = splitKey(key);
    if (code === '_include' || code === '_revinclude') {
      for (const v of all(query, key)) {
        const rule = parseInclude(v, modifier === 'iterate');
        (code === '_include' ? req.include : req.revinclude).push(rule);
      }
    }
  }
  return req;
}

function splitKey(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}
