/**
 * The search interactions over HTTP-shaped requests: type search (GET or POST _search),
 * compartment search and system search with `_type`. Parses, applies `Prefer: handling`, runs
 * the search through the repository (and so the access policy) and builds the searchset Bundle
 * with its self/first/next/previous links.
 */
import type { BundleLink, OperationOutcome } from '@medplum/fhirtypes';
import type { FhirRepository } from '../repo/repository.ts';
import { isResourceType } from '../definitions.ts';
import { badRequest, outcome } from '../outcomes.ts';
import { searchsetBundleText } from '../bundles.ts';
import type { FhirResponse } from '../types.ts';
import { parseSearch, parseSystemSearch, type QueryParams, type SearchRequest } from './parse.ts';
import type { SearchResult } from './run.ts';

export interface SearchCall {
  /** The FHIR base URL, for links and fullUrls. */
  base: string;
  /** `Prefer: handling=strict`: unknown parameters are an error instead of being ignored. */
  strict: boolean;
}

export async function typeSearch(call: SearchCall, repo: FhirRepository, type: string, query: QueryParams, compartment?: string): Promise<FhirResponse> {
  const search = parseSearch(type, query);
  if (compartment) search.compartment = compartment;
  const path = compartment ? `${compartment}/${type}` : type;
  return respond(call, repo, search, `${call.base}/${path}`, query);
}

export async function systemSearch(call: SearchCall, repo: FhirRepository, query: QueryParams): Promise<FhirResponse> {
  const raw = query._type;
  const types = (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (!types.length) throw badRequest('A system-level search needs _type (one or more resource types)');
  const bad = types.filter((t) => !isResourceType(t));
  if (bad.length) throw badRequest(`Unknown resource type(s) in _type: ${bad.join(', ')}`);
  const search = parseSystemSearch([...new Set(types)], query);
  return respond(call, repo, search, call.base, query);
}

async function respond(call: SearchCall, repo: FhirRepository, search: SearchRequest, url: string, query: QueryParams): Promise<FhirResponse> {
  const notes: OperationOutcome[] = [];
  if (search.unknown.length) {
    if (call.strict) throw badRequest(`Unknown search parameter(s): ${search.unknown.join(', ')}`);
    notes.push(outcome('warning', 'not-supported', `Ignored unknown search parameter(s): ${search.unknown.join(', ')}`));
  }
  const result = await repo.search(search);
  const links = pageLinks(url, query, result);
  const body = searchsetBundleText(call.base, result.matches, result.included, result.total, links, search.summary, search.elements, notes);
  return { status: 200, body, headers: {} };
}

/** Query string of `query` (repeated keys kept), with `_cursor` replaced. */
function urlWith(url: string, query: QueryParams, cursor: string | undefined): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || k === '_cursor') continue;
    for (const item of Array.isArray(v) ? v : [v]) sp.append(k, item);
  }
  if (cursor) sp.append('_cursor', cursor);
  const s = sp.toString();
  return s ? `${url}?${s}` : url;
}

/** self (this page), first, and next/previous when those pages exist. */
export function pageLinks(url: string, query: QueryParams, result: Pick<SearchResult, 'next' | 'previous'>): BundleLink[] {
  const current = typeof query._cursor === 'string' ? query._cursor : undefined;
  const links: BundleLink[] = [
    { relation: 'self', url: urlWith(url, query, current) },
    { relation: 'first', url: urlWith(url, query, undefined) },
  ];
  if (result.next) links.push({ relation: 'next', url: urlWith(url, query, result.next) });
  if (result.previous) links.push({ relation: 'previous', url: urlWith(url, query, result.previous) });
  return links;
}
