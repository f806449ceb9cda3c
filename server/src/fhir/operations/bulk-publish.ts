/**
 * `GET /fhir/$bulk-publish` (SMART Scheduling Links): the manifest of our open slots, and
 * `GET /fhir/$bulk-publish/<file>.ndjson` the NDJSON files it lists (Location, Schedule, and one
 * Slot file per week). Public, like the directory data it publishes (see oauth/bearer.ts).
 * `_since` (an instant) limits the manifest's files to what changed after it. The content is
 * built in scheduling/publish.ts.
 */
import type { OperationDefinitionSummary } from './index.ts';
import { badRequest, notFound } from '../outcomes.ts';
import { buildManifest, parseFileName, publishFile } from '../../scheduling/publish.ts';
import { CANONICAL_BASE } from '../../scheduling/codes.ts';

function sinceOf(query: Record<string, unknown>): { since?: number; raw?: string } {
  const v = query._since;
  if (v === undefined) return {};
  const raw = Array.isArray(v) ? String(v[0]) : String(v);
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(ms)) {
    throw badRequest(`_since must be an instant with a time zone (e.g. 2025-07-01T09:00:00Z), not "${raw}"`);
  }
  return { since: ms, raw };
}

export const bulkPublishOperation: OperationDefinitionSummary = {
  name: 'bulk-publish',
  definition: `${CANONICAL_BASE}/OperationDefinition/bulk-publish`,
  types: [],
  levels: ['system'],
  methods: ['GET'],
  files: true,
  async handler({ router, repo, req, file }) {
    const { since, raw } = sinceOf(req.query);
    const base = `${router.base}/$bulk-publish`;
    const suffix = raw ? `?_since=${encodeURIComponent(raw)}` : '';
    const bookingAppUrl = `${router.base.replace(/\/fhir$/, '')}/apps/booking/`;
    const headers = { 'cache-control': 'no-cache' };
    if (file === undefined) {
      const manifest = await buildManifest(repo.queryable, `${base}${suffix}`, (name) => `${base}/${name}${suffix}`, { since });
      return { status: 200, body: JSON.stringify(manifest), headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } };
    }
    const what = parseFileName(file);
    if (!what) throw notFound(`$bulk-publish has no file "${file}"`);
    const text = await publishFile(repo.queryable, what, { since, bookingAppUrl });
    return { status: 200, body: text, headers: { ...headers, 'content-type': 'application/fhir+ndjson' } };
  },
};
