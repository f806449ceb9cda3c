/**
 * Batch and transaction Bundles (POST to the FHIR base). A transaction runs in one database
 * transaction in the spec's order (DELETE, POST, PUT/PATCH, GET), resolving `urn:uuid` full URLs
 * and conditional references (`Patient?identifier=…`), honouring `ifNoneExist`; any failure
 * rolls back everything. Batch entries succeed or fail on their own.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import type { FhirRepository } from './repo/repository.ts';
import type { FhirRouter } from './router.ts';
import { groupParams, lockCondition } from './router.ts';
import { OperationOutcomeError, badRequest, multipleMatches, notFound, outcome } from './outcomes.ts';
import { visitReferences } from './references.ts';
import { isResourceType } from './definitions.ts';
import type { FhirRequest, FhirResponse } from './types.ts';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

export async function processBundle(router: FhirRouter, repo: FhirRepository, req: FhirRequest): Promise<FhirResponse> {
  const bundle = req.body as Bundle;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw badRequest('POST to the FHIR base takes a Bundle of type batch or transaction');
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw badRequest(`Bundle.type must be batch or transaction, not "${String(bundle.type)}"`, ['Bundle.type']);
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array', ['Bundle.entry']);
  // Two entries with one fullUrl would make references to it ambiguous (the spec calls it an error).
  const seenFullUrls = new Map<string, number>();
  entries.forEach((e, i) => {
    checkEntry(e, i);
    if (!e.fullUrl) return;
    const first = seenFullUrls.get(e.fullUrl);
    if (first !== undefined) throw badRequest(`Bundle.entry[${i}].fullUrl "${e.fullUrl}" repeats Bundle.entry[${first}].fullUrl`, [`Bundle.entry[${i}].fullUrl`]);
    seenFullUrls.set(e.fullUrl, i);
  });
  const responses = bundle.type === 'transaction'
    ? await runTransaction(router, repo, req, entries)
    : await runBatch(router, repo, req, entries);
  const result: Bundle = {
    resourceType: 'Bundle',
    type: bundle.type === 'transaction' ? 'transaction-response' : 'batch-response',
    entry: responses,
  };
  return { status: 200, body: result, headers: {} };
}

function checkEntry(entry: BundleEntry, index: number): void {
  const method = entry?.request?.method;
  if (!method || !(method in ORDER)) throw badRequest(`Bundle.entry[${index}].request.method is missing or unknown`, [`Bundle.entry[${index}].request.method`]);
  if (typeof entry.request?.url !== 'string' || !entry.request.url) throw badRequest(`Bundle.entry[${index}].request.url is missing`, [`Bundle.entry[${index}].request.url`]);
  if ((method === 'POST' || method === 'PUT') && (!entry.resource || typeof entry.resource !== 'object')) {
    throw badRequest(`Bundle.entry[${index}] needs a resource for ${method}`, [`Bundle.entry[${index}].resource`]);
  }
}

/** An entry's request.url relative to the FHIR base (it may also be absolute under it). */
function relativeUrl(router: FhirRouter, url: string): string {
  return url.startsWith(router.base + '/') ? url.slice(router.base.length) : url;
}

/** An entry's request as a FhirRequest (URL relative to the base, or absolute under it). */
function entryRequest(router: FhirRouter, outer: FhirRequest, entry: BundleEntry): FhirRequest {
  const url = relativeUrl(router, entry.request?.url as string);
  const [path, query = ''] = url.split('?');
  const headers: Record<string, string | undefined> = { prefer: outer.headers.prefer };
  if (entry.request?.ifMatch) headers['if-match'] = entry.request.ifMatch;
  if (entry.request?.ifNoneExist) headers['if-none-exist'] = entry.request.ifNoneExist;
  if (entry.request?.ifNoneMatch) headers['if-none-match'] = entry.request.ifNoneMatch;
  let body: unknown = entry.resource;
  if (entry.request?.method === 'PATCH' && entry.resource?.resourceType === 'Binary') {
    // JSON Patch inside a Bundle travels as a Binary with base64 data.
    const data = (entry.resource as { data?: string }).data;
    try {
      body = JSON.parse(Buffer.from(data ?? '', 'base64').toString('utf8'));
    } catch {
      throw badRequest('A PATCH entry\'s Binary must hold a JSON Patch document');
    }
  }
  return {
    method: entry.request?.method as Method,
    path: path.startsWith('/') ? path : `/${path}`,
    query: Object.fromEntries(groupParams(new URLSearchParams(query))),
    body,
    headers,
  };
}

function toEntry(router: FhirRouter, res: FhirResponse): BundleEntry {
  const response: BundleEntryResponse = { status: String(res.status) };
  if (res.headers.location) response.location = res.headers.location;
  if (res.headers.etag) response.etag = res.headers.etag;
  if (res.headers['last-modified']) response.lastModified = new Date(res.headers['last-modified']).toISOString();
  const entry: BundleEntry = { response };
  if (res.body !== undefined) {
    const resource = (typeof res.body === 'string' ? JSON.parse(res.body) : res.body) as Resource;
    if (res.status >= 400 && resource.resourceType === 'OperationOutcome') response.outcome = resource;
    else {
      entry.resource = resource;
      if (resource.id && resource.resourceType !== 'OperationOutcome' && resource.resourceType !== 'Bundle') {
        entry.fullUrl = `${router.base}/${resource.resourceType}/${resource.id}`;
      }
    }
  }
  return entry;
}

/** Batch entries are independent (the spec forbids interdependencies), so a few run at once. */
const BATCH_CONCURRENCY = 4;

async function runBatch(router: FhirRouter, repo: FhirRepository, outer: FhirRequest, entries: BundleEntry[]): Promise<BundleEntry[]> {
  const out: BundleEntry[] = new Array(entries.length);
  const runEntry = async (entry: BundleEntry): Promise<BundleEntry> => {
    try {
      const req = entryRequest(router, outer, entry);
      if (req.path === '/' || req.path === '') throw badRequest('A batch entry cannot itself be a batch or transaction');
      return toEntry(router, await router.handle(req, repo));
    } catch (err) {
      if (!(err instanceof OperationOutcomeError)) throw err;
      return { response: { status: String(err.status), outcome: err.outcome } };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await runEntry(entries[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, entries.length) }, worker));
  return out;
}

async function runTransaction(router: FhirRouter, repo: FhirRepository, outer: FhirRequest, entries: BundleEntry[]): Promise<BundleEntry[]> {
  const results: BundleEntry[] = new Array(entries.length);
  const order = entries.map((_, i) => i).sort((a, b) => ORDER[entries[a].request?.method as Method] - ORDER[entries[b].request?.method as Method] || a - b);
  try {
    await repo.withTransaction(async (tx) => {
      // Deletes come first in the spec's order, so the conditions of later entries see their effect.
      for (const i of order) {
        if (entries[i].request?.method === 'DELETE') results[i] = toEntry(router, await router.route(entryRequest(router, outer, entries[i]), tx));
      }
      // Resolve what full URLs will mean before anything else is written.
      const idMap = new Map<string, string>(); // fullUrl → "Type/id"
      const plainCreates: number[] = [];
      for (const i of order) {
        const e = entries[i];
        if (e.request?.method !== 'POST') continue;
        const type = relativeUrl(router, e.request.url as string).split('?')[0].replace(/^\//, '');
        if (!isResourceType(type)) throw notFound(`Unknown resource type "${type}" in Bundle.entry[${i}].request.url`);
        if (e.resource?.resourceType !== type) throw badRequest(`Bundle.entry[${i}]: resourceType does not match request.url`, [`Bundle.entry[${i}].resource.resourceType`]);
        if (e.request.ifNoneExist) {
          const query = Object.fromEntries(groupParams(new URLSearchParams(e.request.ifNoneExist.replace(/^[^?]*\?/, ''))));
          // Same lock as a plain conditional create, so concurrent bundles cannot both create.
          await lockCondition(tx, type, e.request.ifNoneExist);
          const found = await router.findMatches(tx, type, query, 2);
          if (found.length > 1) throw multipleMatches(`Bundle.entry[${i}].request.ifNoneExist matches more than one ${type}`);
          if (found.length === 1) {
            if (e.fullUrl) idMap.set(e.fullUrl, `${type}/${found[0].id}`);
            results[i] = { response: { status: '200', location: `${router.base}/${type}/${found[0].id}/_history/${found[0].version}`, etag: `W/"${found[0].version}"` } };
            continue;
          }
        }
        const id = randomUUID();
        if (e.fullUrl) idMap.set(e.fullUrl, `${type}/${id}`);
        (e as { _assignedId?: string })._assignedId = id;
        plainCreates.push(i);
      }
      for (const i of order) {
        const e = entries[i];
        if (e.request?.method === 'PUT' && e.fullUrl) {
          const path = relativeUrl(router, e.request.url as string).split('?')[0].replace(/^\//, '');
          if (/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(path)) idMap.set(e.fullUrl, path);
        }
      }
      // Rewrite references: full URLs of entries, then conditional references by search.
      const conditional = new Map<string, string>();
      for (const e of entries) {
        if (!e.resource) continue;
        const pending: string[] = [];
        visitReferences(e.resource, (ref) => {
          const mapped = idMap.get(ref);
          if (mapped) return mapped;
          if (/^[A-Z][A-Za-z]+\?/.test(ref) && !conditional.has(ref)) pending.push(ref);
        });
        for (const ref of pending) conditional.set(ref, await resolveConditional(router, tx, ref));
        if (pending.length || conditional.size) visitReferences(e.resource, (ref) => conditional.get(ref));
      }
      // Writes, in order: deletes, creates (plain ones in one statement), updates, reads.
      let createsDone = false;
      for (const i of order) {
        if (results[i]) continue;
        const e = entries[i];
        if (e.request?.method === 'POST') {
          if (createsDone) continue;
          createsDone = true;
          const created = await tx.createMany(
            plainCreates.map((k) => entries[k].resource as Resource),
            plainCreates.map((k) => (entries[k] as { _assignedId?: string })._assignedId as string),
          );
          plainCreates.forEach((k, n) => (results[k] = toEntry(router, router.writeResponse(outer, created[n], 201))));
          continue;
        }
        const req = entryRequest(router, outer, e);
        const res = await router.route(req, tx);
        results[i] = toEntry(router, res);
      }
    }, true);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      const text = err.outcome.issue?.[0]?.details?.text ?? err.message;
      throw new OperationOutcomeError(outcome('error', err.outcome.issue?.[0]?.code ?? 'processing', `Transaction failed; nothing was saved: ${text}`, err.outcome.issue?.[0]?.expression), err.status);
    }
    throw err;
  }
  for (const e of entries) delete (e as { _assignedId?: string })._assignedId;
  return results;
}

async function resolveConditional(router: FhirRouter, repo: FhirRepository, reference: string): Promise<string> {
  const [type, query] = reference.split('?');
  if (!isResourceType(type)) throw badRequest(`Conditional reference "${reference}" names an unknown type`);
  const found = await router.findMatches(repo, type, Object.fromEntries(groupParams(new URLSearchParams(query))), 2);
  if (found.length === 0) throw new OperationOutcomeError(outcome('error', 'not-found', `Conditional reference "${reference}" matches nothing`), 422);
  if (found.length > 1) throw multipleMatches(`Conditional reference "${reference}" matches more than one ${type}`);
  return `${type}/${found[0].id}`;
}
