/** Helpers for the search suites: create resources over HTTP, search, follow links. */
import { expect } from 'vitest';
import { fetchJson, type TestServer } from './server.ts';

export async function create(server: TestServer, resource: Record<string, unknown>): Promise<any> {
  const res = await fetchJson(`${server.fhir}/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Creates many resources in one transaction Bundle; returns them with their ids. */
export async function createAll(server: TestServer, resources: Record<string, unknown>[]): Promise<any[]> {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({ resource, request: { method: 'POST', url: resource.resourceType } })),
  };
  const res = await fetchJson(`${server.fhir}`, { method: 'POST', body: bundle });
  expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
  return res.body.entry.map((e: any) => e.resource);
}

export async function search(server: TestServer, query: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetchJson(`${server.fhir}/${query}`, { headers });
  expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

/** Status and body of a search expected to fail. */
export async function searchStatus(server: TestServer, query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetchJson(`${server.fhir}/${query}`, { headers });
  return { status: res.status, body: res.body };
}

/** Ids of the matches of a searchset, in order. */
export function ids(bundle: any): string[] {
  return (bundle.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id);
}

export function link(bundle: any, relation: string): string | undefined {
  return bundle.link?.find((l: any) => l.relation === relation)?.url;
}

export async function follow(url: string): Promise<any> {
  const res = await fetchJson(url);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
