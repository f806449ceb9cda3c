/**
 * FHIR REST semantics on a FhirRequest → FhirResponse, with no HTTP framework: picks the
 * interaction (read, vread, update, patch, delete, history, create, search, batch/transaction,
 * operations), applies conditional headers and Prefer, and calls the repository.
 */
import type { BundleLink, Resource } from '@medplum/fhirtypes';
import type { Operation } from 'fast-json-patch';
import type { FhirRepository, StoredVersion, WriteResult } from './repo/repository.ts';
import { isResourceType } from './definitions.ts';
import {
  OperationOutcomeError,
  allOk,
  badRequest,
  methodNotAllowed,
  multipleMatches,
  notFound,
} from './outcomes.ts';
import { parseSearch, type QueryParams } from './search/parse.ts';
import { systemSearch, typeSearch, type SearchCall } from './search/handler.ts';
import { historyBundle, resourceOf } from './bundles.ts';
import { applySubset, needsFormatting, type Summary } from './format.ts';
import { ID_RE } from './references.ts';
import type { FhirRequest, FhirResponse } from './types.ts';
import { processBundle } from './transaction.ts';
import { runOperation } from './operations/index.ts';

export interface RouterOptions {
  fhirBaseUrl: string;
  capabilityStatement: () => Resource;
}

const HISTORY_DEFAULT_COUNT = 100;

function first(query: QueryParams, key: string): string | undefined {
  const v = query[key];
  return Array.isArray(v) ? v[0] : v;
}

/** `W/"3"` or `"3"` → 3. */
export function parseETag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:W\/)?"(\d+)"$/.exec(value.trim());
  if (!m) throw badRequest(`Malformed ETag "${value}": expected W/"<version>"`);
  return Number(m[1]);
}

function parseInstant(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw badRequest(`${name} must be an instant, not "${value}"`);
  return d;
}

function preferValue(req: FhirRequest, key: string): string | undefined {
  const prefer = req.headers.prefer;
  if (!prefer) return undefined;
  for (const part of prefer.split(/[;,]/)) {
    const [k, v] = part.trim().split('=');
    if (k?.trim().toLowerCase() === key) return v?.trim().replace(/^"|"$/g, '');
  }
  return undefined;
}

function versionHeaders(v: Pick<StoredVersion, 'version' | 'lastUpdated'>): Record<string, string> {
  return { etag: `W/"${v.version}"`, 'last-modified': new Date(v.lastUpdated).toUTCString() };
}

export class FhirRouter {
  readonly options: RouterOptions;

  constructor(options: RouterOptions) {
    this.options = options;
  }

  get base(): string {
    return this.options.fhirBaseUrl;
  }

  async handle(req: FhirRequest, repo: FhirRepository): Promise<FhirResponse> {
    try {
      return await this.route(req, repo);
    } catch (err) {
      if (err instanceof OperationOutcomeError) return { status: err.status, body: err.outcome, headers: { ...err.headers } };
      throw err;
    }
  }

  /** Dispatch by path shape and method. Throws OperationOutcomeError for refusals. */
  async route(req: FhirRequest, repo: FhirRepository): Promise<FhirResponse> {
    const segments = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const m = req.method === 'HEAD' ? 'GET' : req.method;
    const [type, id, third, fourth] = segments;

    if (segments.length === 0) {
      if (m === 'POST') return processBundle(this, repo, req);
      if (m === 'GET') return this.systemSearch(req, repo);
      throw methodNotAllowed(`${req.method} is not allowed on the FHIR base`);
    }
    if (type === 'metadata' && segments.length === 1) {
      if (m !== 'GET') throw methodNotAllowed('metadata is read-only');
      return { status: 200, body: this.options.capabilityStatement(), headers: {} };
    }
    if (type === '_history' && segments.length === 1) {
      if (m !== 'GET') throw methodNotAllowed('history is read-only');
      return this.history(req, repo);
    }
    if (type.startsWith('$') && segments.length === 1) return runOperation(this, repo, req, type.slice(1));
    // A file a system-level operation publishes, e.g. $bulk-publish/Slot.ndjson (the operation says whether it has files).
    if (type.startsWith('$') && segments.length === 2) return runOperation(this, repo, req, type.slice(1), undefined, undefined, id);

    if (!isResourceType(type)) throw notFound(`Unknown resource type or path "${type}"`);

    if (segments.length === 1) {
      switch (m) {
        case 'GET': return this.search(req, repo, type, req.query);
        case 'POST': return this.create(req, repo, type);
        case 'PUT': return this.conditionalUpdate(req, repo, type);
        case 'DELETE': return this.conditionalDelete(req, repo, type);
        case 'PATCH': return this.conditionalPatch(req, repo, type);
      }
    }
    if (segments.length === 2 && id === '_search') {
      if (m !== 'POST') throw methodNotAllowed('_search takes POST');
      return this.search(req, repo, type, { ...req.query, ...formParams(req.body) });
    }
    if (segments.length === 2 && id === '_history') {
      if (m !== 'GET') throw methodNotAllowed('history is read-only');
      return this.history(req, repo, type);
    }
    if (segments.length === 2 && id.startsWith('$')) return runOperation(this, repo, req, id.slice(1), type);
    // No resource can have a malformed id: reading one is 404, but creating one by PUT is refused.
    if (!ID_RE.test(id)) {
      if (m === 'PUT') throw badRequest(`"${id}" is not a valid id (1 to 64 of A-Z, a-z, 0-9, "-" and ".")`);
      throw notFound(`Malformed id "${id}"`);
    }

    if (segments.length === 2) {
      switch (m) {
        case 'GET': return this.read(req, repo, type, id);
        case 'PUT': return this.update(req, repo, type, id);
        case 'PATCH': return this.patch(req, repo, type, id);
        case 'DELETE': return this.delete(req, repo, type, id);
        default: throw methodNotAllowed(`${req.method} is not allowed on a resource instance`);
      }
    }
    if (third === '_history' && segments.length === 3) {
      if (m !== 'GET') throw methodNotAllowed('history is read-only');
      await repo.read(type, id).catch((err) => {
        // A deleted resource still has history.
        if (!(err instanceof OperationOutcomeError && err.status === 410)) throw err;
      });
      return this.history(req, repo, type, id);
    }
    if (third === '_history' && segments.length === 4) {
      if (m !== 'GET') throw methodNotAllowed('history is read-only');
      const v = await repo.vread(type, id, fourth);
      return this.resourceResponse(req, 200, v);
    }
    if (third?.startsWith('$') && segments.length === 3) return runOperation(this, repo, req, third.slice(1), type, id);
    if (segments.length === 3 && isResourceType(third)) {
      // Compartment search: Patient/123/Observation
      if (m !== 'GET') throw methodNotAllowed('compartment search takes GET');
      return this.search(req, repo, third, req.query, `${type}/${id}`);
    }
    throw notFound(`Unknown path "${req.path}"`);
  }

  // ------------------------------------------------------------ instance interactions

  /** A resource body (or the stored JSON as it is) with its version headers. */
  resourceResponse(req: FhirRequest, status: number, stored: StoredVersion, extra: Record<string, string> = {}): FhirResponse {
    const summary = first(req.query, '_summary') as Summary;
    const elements = first(req.query, '_elements')?.split(',').filter(Boolean);
    const body = needsFormatting(summary, elements) ? resourceOf(stored, summary, elements) : (stored.content as string);
    return { status, body, headers: { ...versionHeaders(stored), ...extra } };
  }

  async read(req: FhirRequest, repo: FhirRepository, type: string, id: string): Promise<FhirResponse> {
    const stored = await repo.read(type, id);
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.replace(/^W\//, '') === `"${stored.version}"`) {
      return { status: 304, headers: versionHeaders(stored) };
    }
    return this.resourceResponse(req, 200, stored);
  }

  /** The answer to a write, shaped by `Prefer: return=…`. */
  writeResponse(req: FhirRequest, result: WriteResult, status: number): FhirResponse {
    const { stored } = result;
    const headers = {
      ...versionHeaders(stored),
      location: `${this.base}/${stored.type}/${stored.id}/_history/${stored.version}`,
    };
    const ret = preferValue(req, 'return');
    if (ret === 'minimal') return { status, headers };
    if (ret === 'OperationOutcome') {
      return { status, headers, body: allOk(`${status === 201 ? 'Created' : 'Updated'} ${stored.type}/${stored.id}`) };
    }
    return { status, headers, body: stored.content as string };
  }

  private requireBody(req: FhirRequest, type: string): Resource {
    const body = req.body as Resource | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a FHIR resource');
    if (body.resourceType !== type) {
      throw badRequest(`resourceType "${String(body.resourceType)}" in the body does not match "${type}" in the URL`, ['resourceType']);
    }
    return body;
  }

  async create(req: FhirRequest, repo: FhirRepository, type: string): Promise<FhirResponse> {
    const resource = this.requireBody(req, type);
    const ifNoneExist = req.headers['if-none-exist'];
    if (ifNoneExist) {
      const query = Object.fromEntries(groupParams(new URLSearchParams(ifNoneExist.replace(/^[^?]*\?/, ''))));
      return repo.withTransaction(async (tx) => {
        await lockCondition(tx, type, ifNoneExist);
        const matches = await this.findMatches(tx, type, query, 2);
        if (matches.length > 1) throw multipleMatches(`If-None-Exist "${ifNoneExist}" matches more than one ${type}`);
        if (matches.length === 1) return this.resourceResponse(req, 200, matches[0]);
        return this.writeResponse(req, await tx.create(resource), 201);
      });
    }
    return this.writeResponse(req, await repo.create(resource), 201);
  }

  async update(req: FhirRequest, repo: FhirRepository, type: string, id: string): Promise<FhirResponse> {
    const resource = this.requireBody(req, type);
    if (resource.id === undefined) throw badRequest('The resource in an update must have an id', ['id']);
    if (resource.id !== id) throw badRequest(`id "${resource.id}" in the body does not match "${id}" in the URL`, ['id']);
    const result = await repo.update(resource, { ifMatch: parseETag(req.headers['if-match']) });
    return this.writeResponse(req, result, result.created ? 201 : 200);
  }

  async patch(req: FhirRequest, repo: FhirRepository, type: string, id: string): Promise<FhirResponse> {
    const result = await repo.patch(type, id, req.body as Operation[], parseETag(req.headers['if-match']));
    return this.writeResponse(req, result, 200);
  }

  async delete(req: FhirRequest, repo: FhirRepository, type: string, id: string): Promise<FhirResponse> {
    const deleted = await repo.delete(type, id, parseETag(req.headers['if-match']));
    const headers: Record<string, string> = deleted ? { etag: `W/"${deleted.version}"` } : {};
    return { status: 200, headers, body: allOk(deleted ? `Deleted ${type}/${id}` : `${type}/${id} did not exist`) };
  }

  // ------------------------------------------------------------ conditional interactions

  /** Up to `limit` current resources matching a search query, inside the caller's transaction. */
  async findMatches(repo: FhirRepository, type: string, query: QueryParams, limit: number): Promise<StoredVersion[]> {
    const search = parseSearch(type, query);
    if (search.unknown.length) throw badRequest(`Unknown search parameter(s) in condition: ${search.unknown.join(', ')}`);
    if (search.filters.length === 0) throw badRequest('A conditional request needs at least one search parameter');
    search.count = limit;
    search.total = 'none';
    search.include = [];
    search.revinclude = [];
    return (await repo.search(search)).matches;
  }

  private async conditionalUpdate(req: FhirRequest, repo: FhirRepository, type: string): Promise<FhirResponse> {
    const resource = this.requireBody(req, type);
    const condition = new URLSearchParams(req.query as Record<string, string>).toString();
    return repo.withTransaction(async (tx) => {
      await lockCondition(tx, type, condition);
      const matches = await this.findMatches(tx, type, req.query, 2);
      if (matches.length > 1) throw multipleMatches(`Conditional update matches more than one ${type}`);
      if (matches.length === 0) {
        const result = resource.id ? await tx.update(resource) : await tx.create(resource);
        return this.writeResponse(req, result, 201);
      }
      const id = matches[0].id;
      if (resource.id !== undefined && resource.id !== id) {
        throw badRequest(`id "${resource.id}" in the body does not match the resource the condition found`, ['id']);
      }
      const result = await tx.update({ ...resource, id }, { ifMatch: parseETag(req.headers['if-match']) });
      return this.writeResponse(req, result, 200);
    });
  }

  private async conditionalPatch(req: FhirRequest, repo: FhirRepository, type: string): Promise<FhirResponse> {
    return repo.withTransaction(async (tx) => {
      const matches = await this.findMatches(tx, type, req.query, 2);
      if (matches.length > 1) throw multipleMatches(`Conditional patch matches more than one ${type}`);
      if (matches.length === 0) throw notFound(`No ${type} matches the condition`);
      return this.writeResponse(req, await tx.patch(type, matches[0].id, req.body as Operation[], parseETag(req.headers['if-match'])), 200);
    });
  }

  private async conditionalDelete(req: FhirRequest, repo: FhirRepository, type: string): Promise<FhirResponse> {
    return repo.withTransaction(async (tx) => {
      const matches = await this.findMatches(tx, type, req.query, 2);
      if (matches.length > 1) throw multipleMatches(`Conditional delete matches more than one ${type}`);
      if (matches.length === 0) return { status: 200, headers: {}, body: allOk(`No ${type} matched; nothing deleted`) };
      return this.delete(req, tx, type, matches[0].id);
    });
  }

  // ------------------------------------------------------------ search and history

  async search(req: FhirRequest, repo: FhirRepository, type: string, query: QueryParams, compartment?: string): Promise<FhirResponse> {
    return typeSearch(this.searchCall(req), repo, type, query, compartment);
  }

  private async systemSearch(req: FhirRequest, repo: FhirRepository): Promise<FhirResponse> {
    return systemSearch(this.searchCall(req), repo, req.query);
  }

  private searchCall(req: FhirRequest): SearchCall {
    return { base: this.base, strict: preferValue(req, 'handling') === 'strict' };
  }

  async history(req: FhirRequest, repo: FhirRepository, type?: string, id?: string): Promise<FhirResponse> {
    const countRaw = first(req.query, '_count');
    const count = countRaw === undefined ? HISTORY_DEFAULT_COUNT : Number(countRaw);
    if (!Number.isInteger(count) || count < 0) throw badRequest('_count must be a non-negative integer');
    const page = await repo.history({
      type,
      id,
      since: parseInstant('_since', first(req.query, '_since')),
      at: parseInstant('_at', first(req.query, '_at')),
      count: Math.min(count, 1000),
      cursor: first(req.query, '_cursor'),
    });
    const path = [type, id, '_history'].filter(Boolean).join('/');
    const self = `${this.base}/${path}${queryString(req.query)}`;
    const links: BundleLink[] = [{ relation: 'self', url: self }];
    if (page.next) links.push({ relation: 'next', url: `${this.base}/${path}${queryString({ ...req.query, _cursor: page.next })}` });
    return { status: 200, body: historyBundle(this.base, page.versions, page.total, links), headers: {} };
  }

  /** Applies `_summary`/`_elements` to a resource body (used by operations returning resources). */
  format(req: FhirRequest, resource: Resource): Resource {
    const summary = first(req.query, '_summary') as Summary;
    const elements = first(req.query, '_elements')?.split(',').filter(Boolean);
    return needsFormatting(summary, elements) ? applySubset(resource, summary, elements) : resource;
  }
}

/** Serialises the advisory lock of one conditional operation (same type and condition). */
export async function lockCondition(repo: FhirRepository, type: string, condition: string): Promise<void> {
  const normalized = [...new URLSearchParams(condition.replace(/^[^?]*\?/, ''))].map(([k, v]) => `${k}=${v}`).sort().join('&');
  await repo.queryable.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${type}?${normalized}`], 'fhir_condition_lock');
}

export function groupParams(params: URLSearchParams): Map<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const [k, v] of params) {
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return out;
}

function formParams(body: unknown): QueryParams {
  if (typeof body === 'string') return Object.fromEntries(groupParams(new URLSearchParams(body)));
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as QueryParams;
  return {};
}

export function queryString(query: QueryParams): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) sp.append(k, item);
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export { parseInstant, first as firstParam, preferValue };
