/**
 * Search URL parameters → a SearchRequest. Unknown parameters are collected (reported under
 * `Prefer: handling=lenient`, refused under `handling=strict`); malformed values, unsupported
 * modifiers and chains on non-reference parameters are always 400.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { isResourceType, searchParametersOf } from '../definitions.ts';
import { badRequest } from '../outcomes.ts';
import { parseFilterKey } from './parse-filter.ts';
import type { SearchFilter } from './filter-types.ts';

export type { SearchFilter, ParamFilter, ChainFilter, HasFilter, TextFilter } from './filter-types.ts';

export type QueryParams = Record<string, string | string[] | undefined>;

export interface SortRule {
  code: string;
  descending: boolean;
  /** Undefined for `_id`, `_lastUpdated` and the near-match rank. */
  param?: SearchParameter;
}

export interface IncludeRule {
  sourceType: string;
  param: string;
  targetType?: string;
  iterate: boolean;
}

/** The filters of one resource type (system search over several types has one per type). */
export interface TypeBranch {
  resourceType: string;
  filters: SearchFilter[];
}

export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  /** System search over several types (`_type=A,B`): the other types and their filters. */
  otherTypes?: TypeBranch[];
  count: number;
  /** Opaque keyset cursor from a previous page's link (`_cursor`). */
  cursor?: string;
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
  '_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude',
  '_format', '_pretty', '_cursor', '_type',
]);

/** Parameter types that have a sort order. */
const SORTABLE = new Set(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);

/** Splits a comma-separated parameter value, honouring `\,` escapes (other escapes are kept). */
export function splitValues(value: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && value[i + 1] === ',') {
      current += ',';
      i++;
    } else if (ch === ',') {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

export function all(query: QueryParams, key: string): string[] {
  const v = query[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function parseCount(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_COUNT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw badRequest(`_count must be a non-negative integer, not "${raw}"`);
  return Math.min(n, MAX_COUNT);
}

function parseInclude(raw: string, iterate: boolean): IncludeRule {
  if (raw === '*') return { sourceType: '*', param: '*', iterate };
  const parts = raw.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw badRequest(`Invalid include "${raw}": expected ResourceType:parameter[:TargetType]`);
  }
  const [sourceType, param, targetType] = parts;
  if (sourceType !== '*' && !isResourceType(sourceType)) throw badRequest(`Unknown resource type "${sourceType}" in include "${raw}"`);
  if (targetType && !isResourceType(targetType)) throw badRequest(`Unknown target type "${targetType}" in include "${raw}"`);
  if (sourceType !== '*' && param !== '*' && searchParametersOf(sourceType)[param]?.type !== 'reference') {
    throw badRequest(`"${param}" is not a reference parameter of ${sourceType} (include "${raw}")`);
  }
  return { sourceType, param, targetType, iterate };
}

function parseSort(resourceType: string, query: QueryParams): SortRule[] {
  const params = searchParametersOf(resourceType);
  const out: SortRule[] = [];
  for (const s of all(query, '_sort').flatMap((v) => v.split(','))) {
    if (!s) continue;
    const descending = s.startsWith('-');
    const code = descending ? s.slice(1) : s;
    if (code === '_id' || code === '_lastUpdated') {
      out.push({ code, descending });
      continue;
    }
    const param = params[code];
    if (!param) throw badRequest(`Unknown _sort parameter "${code}" for ${resourceType}`);
    if (!SORTABLE.has(param.type as string)) throw badRequest(`Cannot sort on "${code}": ${param.type} parameters have no order`);
    out.push({ code, descending, param });
  }
  return out;
}

/** The filters of `query` for one resource type; unknown keys go to `unknown`. */
export function parseFilters(resourceType: string, query: QueryParams, unknown: string[]): SearchFilter[] {
  const filters: SearchFilter[] = [];
  for (const key of Object.keys(query)) {
    const [code] = splitKey(key);
    if (RESULT_PARAMS.has(code)) continue;
    for (const value of all(query, key)) {
      const f = parseFilterKey(resourceType, key, splitValues(value));
      if (f) filters.push(f);
      else if (!unknown.includes(key)) unknown.push(key);
    }
  }
  return filters;
}

export function parseSearch(resourceType: string, query: QueryParams): SearchRequest {
  const req: SearchRequest = {
    resourceType,
    filters: [],
    count: parseCount(all(query, '_count')[0]),
    sort: parseSort(resourceType, query),
    include: [],
    revinclude: [],
    unknown: [],
  };
  req.filters = parseFilters(resourceType, query, req.unknown);
  const cursor = all(query, '_cursor')[0];
  if (cursor) req.cursor = cursor;
  const total = all(query, '_total')[0];
  if (total !== undefined) {
    if (!['none', 'estimate', 'accurate'].includes(total)) throw badRequest('_total must be none, estimate or accurate');
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
    if (code !== '_include' && code !== '_revinclude') continue;
    if (modifier && modifier !== 'iterate' && modifier !== 'recurse') throw badRequest(`Unknown modifier :${modifier} on ${code}`);
    for (const v of all(query, key)) {
      const rule = parseInclude(v, modifier !== undefined);
      (code === '_include' ? req.include : req.revinclude).push(rule);
    }
  }
  return req;
}

/**
 * System search over several types: each type gets its own filters (a parameter must exist on
 * every listed type, as the spec asks; otherwise it is unknown).
 */
export function parseSystemSearch(types: string[], query: QueryParams): SearchRequest {
  const [head, ...rest] = types;
  const req = parseSearch(head, query);
  if (rest.length) {
    if (req.sort.some((s) => s.param)) throw badRequest('Searching several types sorts only by _id or _lastUpdated');
    req.otherTypes = rest.map((t) => ({ resourceType: t, filters: parseFilters(t, query, req.unknown) }));
    // A parameter some listed type lacks is ignored for all of them (and reported).
    const known = (f: { key: string }) => !req.unknown.includes(f.key);
    req.filters = req.filters.filter(known);
    for (const b of req.otherTypes) b.filters = b.filters.filter(known);
  }
  return req;
}

export function splitKey(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}
