/**
 * `Patient/{id}/$everything` (GET, or POST with a Parameters body): the Patient, every resource
 * of its compartment the caller may see, and the non-patient resources they refer to
 * (Practitioner, PractitionerRole, Organization, Location, Medication, Device…), also only when
 * visible. Everything runs as SQL with the caller's AccessPolicy compiled in, so the answer is
 * exactly what the caller could read one by one; a Patient the caller may not see is 404.
 *
 * Parameters: `_since` (instant: only resources changed since), `_type` (comma-separated types to
 * return; the Patient itself only when listed), `_count` (page size, default and maximum 1000)
 * with keyset paging through `next` links (`_cursor`). `start`/`end` are not supported (ignored).
 * AuditEvents, although members of the compartment, are returned only when `_type` asks for
 * them: each $everything call would otherwise grow the next answer by its own audit trail.
 */
import type { BundleLink, Parameters } from '@medplum/fhirtypes';
import type { OperationDefinitionSummary } from './index.ts';
import type { StoredVersion } from '../repo/repository.ts';
import { getResourceTypes, isResourceType, patientCompartmentParamsOf } from '../definitions.ts';
import { badRequest } from '../outcomes.ts';
import { queryString } from '../router.ts';
import { searchsetBundleText } from '../bundles.ts';
import { newContext } from '../search/sql.ts';
import { visibleSql } from '../search/filters.ts';
import type { QueryParams } from '../search/parse.ts';

export const EVERYTHING_MAX_COUNT = 1000;

/** Rounds of references followed from the compartment (PractitionerRole → Organization, Location). */
const REFERENCE_ROUNDS = 2;

/** Compartment types returned unless `_type` names them explicitly. */
const ONLY_ON_REQUEST = new Set(['AuditEvent']);

let compartmentTypes: string[] | undefined;
let otherTypes: string[] | undefined;

/** Types whose rows can belong to a Patient compartment (the Patient included), and the rest. */
function typeSplit(): { compartment: string[]; other: string[] } {
  if (!compartmentTypes || !otherTypes) {
    const all = getResourceTypes();
    compartmentTypes = all.filter((t) => t === 'Patient' || patientCompartmentParamsOf(t).length > 0);
    otherTypes = all.filter((t) => !compartmentTypes!.includes(t));
  }
  return { compartment: compartmentTypes, other: otherTypes };
}

interface EverythingParams {
  since?: Date;
  types?: string[];
  count: number;
  cursor?: { type: string; id: string };
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** GET query parameters, or a POST Parameters body (whose values win), as query-style strings. */
function rawParams(query: QueryParams, body: unknown): QueryParams {
  const params = body as Parameters | undefined;
  if (body === undefined || body === null || body === '' || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) return { ...query };
  if (typeof params !== 'object' || params.resourceType !== 'Parameters') throw badRequest('$everything takes a Parameters body (or none)');
  const fromBody: Record<string, string[]> = {};
  for (const p of params.parameter ?? []) {
    const v = p.valueInstant ?? p.valueDateTime ?? p.valueDate ?? p.valueCode ?? p.valueString ?? p.valueInteger ?? p.valuePositiveInt ?? p.valueUnsignedInt;
    if (p.name && v !== undefined) (fromBody[p.name] ??= []).push(String(v));
  }
  const out: QueryParams = { ...query };
  for (const [k, v] of Object.entries(fromBody)) out[k] = v.length === 1 ? v[0] : v;
  return out;
}


function parseParams(raw: QueryParams): EverythingParams {
  const out: EverythingParams = { count: EVERYTHING_MAX_COUNT };
  const since = single(raw._since);
  if (since !== undefined) {
    const d = new Date(since);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(since) || Number.isNaN(d.getTime())) throw badRequest(`_since must be an instant, not "${since}"`);
    out.since = d;
  }
  const typeValues = raw._type === undefined ? [] : Array.isArray(raw._type) ? raw._type : [raw._type];
  if (typeValues.length) {
    const types = [...new Set(typeValues.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean))];
    const bad = types.filter((t) => !isResourceType(t));
    if (bad.length) throw badRequest(`Unknown resource type(s) in _type: ${bad.join(', ')}`);
    out.types = types;
  }
  const count = single(raw._count);
  if (count !== undefined) {
    if (!/^\d+$/.test(count) || Number(count) < 1) throw badRequest(`_count must be a positive integer, not "${count}"`);
    out.count = Math.min(Number(count), EVERYTHING_MAX_COUNT);
  }
  const cursor = single(raw._cursor);
  if (cursor !== undefined) {
    try {
      const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
      if (typeof c.t !== 'string' || typeof c.i !== 'string') throw new Error('shape');
      out.cursor = { type: c.t, id: c.i };
    } catch {
      throw badRequest('Malformed _cursor: use the links of a previous page');
    }
  }
  return out;
}

const COLUMNS = `r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.content`;

export const patientEverythingOperation: OperationDefinitionSummary = {
  name: 'everything',
  definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  types: ['Patient'],
  levels: ['instance'],
  methods: ['GET', 'POST'],
  async handler({ router, repo, req, id }) {
    const patientId = id as string;
    const raw = rawParams(req.query, req.method === 'POST' ? req.body : undefined);
    const p = parseParams(raw);
    // The caller must be able to read the Patient: 404 (or 410, 403) exactly as a read answers.
    const patient = await repo.read('Patient', patientId);
    const split = typeSplit();
    const wanted = (t: string) => (p.types ? p.types.includes(t) : !ONLY_ON_REQUEST.has(t));
    const memberTypes = split.compartment.filter(wanted);
    const compartment = `Patient/${patientId}`;

    // One page of the compartment (the Patient is a member of its own), in (type, id) order.
    let matches: StoredVersion[] = [];
    let total = 0;
    let next: string | undefined;
    if (memberTypes.length) {
      const where = (withCursor: boolean) => {
        const ctx = newContext(repo.access);
        const conds = [
          `r.type = ANY(${ctx.params.add(memberTypes)}::text[])`,
          'NOT r.deleted',
          `r.compartments @> ARRAY[${ctx.params.add(compartment)}]::text[]`,
        ];
        const visible = visibleSql(memberTypes, 'r', ctx);
        if (visible) conds.push(visible);
        if (p.since) conds.push(`r.last_updated >= ${ctx.params.add(p.since.toISOString())}::timestamptz`);
        if (withCursor && p.cursor) conds.push(`(r.type, r.id) > (${ctx.params.add(p.cursor.type)}, ${ctx.params.add(p.cursor.id)})`);
        return { sql: conds.join(' AND '), ctx };
      };
      const page = where(true);
      const limit = page.ctx.params.add(p.count + 1);
      const { rows } = await repo.queryable.query<StoredVersion>(
        `SELECT ${COLUMNS} FROM resource r WHERE ${page.sql} ORDER BY r.type, r.id LIMIT ${limit}`,
        page.ctx.params.values,
      );
      matches = rows.slice(0, p.count).map((r) => ({ ...r, deleted: false }));
      if (rows.length > p.count) {
        const last = matches[matches.length - 1];
        next = Buffer.from(JSON.stringify({ t: last.type, i: last.id })).toString('base64url');
      }
      const counted = where(false);
      total = (await repo.queryable.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource r WHERE ${counted.sql}`, counted.ctx.params.values)).rows[0].n;
    }

    // Non-patient resources the page refers to (practitioners, organisations, locations…).
    const referenced: StoredVersion[] = [];
    const targetTypes = split.other.filter((t) => !p.types || p.types.includes(t));
    const seen = new Set(matches.map((m) => `${m.type}/${m.id}`));
    let frontier = matches;
    for (let round = 0; round < REFERENCE_ROUNDS && frontier.length && targetTypes.length; round++) {
      const ctx = newContext(repo.access);
      const conds = [
        `(x.res_type, x.res_id) IN (SELECT * FROM unnest(${ctx.params.add(frontier.map((s) => s.type))}::text[], ${ctx.params.add(frontier.map((s) => s.id))}::text[]))`,
        `x.target_type = ANY(${ctx.params.add(targetTypes)}::text[])`,
        'NOT r.deleted',
      ];
      const visible = visibleSql(targetTypes, 'r', ctx);
      if (visible) conds.push(visible);
      const { rows } = await repo.queryable.query<StoredVersion>(
        `SELECT DISTINCT ${COLUMNS} FROM idx_reference x JOIN resource r ON r.type = x.target_type AND r.id = x.target_id WHERE ${conds.join(' AND ')}`,
        ctx.params.values,
      );
      frontier = [];
      for (const row of rows) {
        const key = `${row.type}/${row.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const v = { ...row, deleted: false };
        referenced.push(v);
        frontier.push(v);
      }
    }

    repo.context.audit?.read(repo.context, 'operation', matches.length ? [...matches, ...referenced] : [patient]);

    const path = `${router.base}/Patient/${patientId}/$everything`;
    const query: QueryParams = { ...raw };
    delete query._cursor;
    const links: BundleLink[] = [{ relation: 'self', url: `${path}${queryString(raw)}` }];
    if (next) links.push({ relation: 'next', url: `${path}${queryString({ ...query, _cursor: next })}` });
    return { status: 200, body: searchsetBundleText(router.base, matches, referenced, total, links), headers: {} };
  },
};
