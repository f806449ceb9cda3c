/**
 * Does a resource version match a search ("Appointment?status=booked&actor=Patient/1")?
 * Evaluated at change time against the version just written, with the search engine's own SQL:
 * the query shadows the resource table and the index tables with CTEs of the same names that
 * hold this version (and, for the index tables, every other resource's real rows, so chained
 * parameters still see the rest of the database). One query answers many criteria at once.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.ts';
import { allowAll } from '../access/policy.ts';
import { parseSearch, type SearchRequest } from '../fhir/search/parse.ts';
import { whereSql } from '../fhir/search/sql.ts';
import { SqlParams } from '../fhir/search/sql-params.ts';
import { extractIndexRows } from '../fhir/search/extract.ts';
import { INDEX_KINDS, INDEX_TABLES, ROW_FIELDS } from '../fhir/repo/write-sql.ts';
import { groupParams } from '../fhir/router.ts';
import { isResourceType } from '../fhir/definitions.ts';
import { badRequest } from '../fhir/outcomes.ts';

/** "Type?query" → a SearchRequest; throws an OperationOutcomeError for a malformed criteria. */
export function parseCriteria(criteria: string): SearchRequest {
  const q = criteria.indexOf('?');
  const type = (q < 0 ? criteria : criteria.slice(0, q)).trim();
  const query = Object.fromEntries(groupParams(new URLSearchParams(q < 0 ? '' : criteria.slice(q + 1))));
  if (!isResourceType(type)) throw badRequest(`Criteria "${criteria}" does not start with a resource type`);
  const req = parseSearch(type, query);
  // Building the SQL once checks the values (dates, prefixes, modifiers) as a search would.
  whereSql(req, new SqlParams(), allowAll);
  return req;
}

function needsOthers(searches: SearchRequest[]): boolean {
  const deep = (filters: SearchRequest['filters']) => filters.some((f) => (f as { kind?: string }).kind === 'chain' || (f as { kind?: string }).kind === 'has');
  return searches.some((s) => deep(s.filters) || (s.otherTypes ?? []).some((b) => deep(b.filters)));
}

/** `json_to_recordset` column list for an index table: res_type, res_id and its columns. */
function recordsetColumns(table: (typeof INDEX_TABLES)[keyof typeof INDEX_TABLES]): string {
  return ['res_type text', 'res_id text', ...table.columns.map((c, k) => `${c} ${table.types[k]}`)].join(', ');
}

/**
 * Batch matching: for many resource versions at once (at most one version per resource), which
 * of them each search matches. One query answers every (version, search) pair: the resource
 * and index tables are shadowed by CTEs holding these versions (plus, when a search chains,
 * every other resource's real rows), and each search becomes one `ARRAY(SELECT r.type || '/' ||
 * r.id …)` column, evaluated with the search engine's own SQL. Returns, per search, the set of
 * `Type/id` that match.
 */
export async function matchBatch(db: Queryable, resources: Resource[], searches: SearchRequest[]): Promise<Set<string>[]> {
  if (searches.length === 0 || resources.length === 0) return searches.map(() => new Set());
  const keys = resources.map((r) => `${r.resourceType}/${r.id}`);
  if (new Set(keys).size !== keys.length) throw new Error('matchBatch takes at most one version per resource');
  const params = new SqlParams();
  const others = needsOthers(searches);
  const versions: Record<string, unknown>[] = [];
  const rowsByKind = new Map<string, Record<string, unknown>[]>();
  for (const resource of resources) {
    const index = extractIndexRows(resource);
    versions.push({
      type: resource.resourceType, id: resource.id, version: Number(resource.meta?.versionId ?? 1),
      last_updated: resource.meta?.lastUpdated ?? new Date().toISOString(), content: JSON.stringify(resource), compartments: index.compartments,
    });
    for (const kind of INDEX_KINDS) {
      const { columns } = INDEX_TABLES[kind];
      const list = rowsByKind.get(kind) ?? rowsByKind.set(kind, []).get(kind)!;
      for (const row of index[kind] as unknown as Record<string, unknown>[]) {
        const record: Record<string, unknown> = { res_type: resource.resourceType, res_id: resource.id };
        ROW_FIELDS[kind].forEach((field, k) => (record[columns[k]] = row[field] ?? null));
        list.push(record);
      }
    }
  }
  // The batch's own (type, id) pairs, to hide their stored rows when other rows stay visible.
  const batch = others ? `(SELECT * FROM unnest(${params.add(resources.map((r) => r.resourceType))}::text[], ${params.add(resources.map((r) => r.id))}::text[]))` : '';
  const ctes = [
    `resource AS NOT MATERIALIZED (
      ${others ? `SELECT type, id, version, last_updated, deleted, content, compartments FROM resource WHERE (type, id) NOT IN ${batch}
      UNION ALL ` : ''}SELECT type, id, version, last_updated, false AS deleted, content, compartments
        FROM json_to_recordset(${params.add(JSON.stringify(versions))}::json) AS x(type text, id text, version int, last_updated timestamptz, content text, compartments text[]))`,
  ];
  for (const kind of INDEX_KINDS) {
    const table = INDEX_TABLES[kind];
    const names = table.columns.join(', ');
    ctes.push(`${table.table} AS NOT MATERIALIZED (
      ${others ? `SELECT res_type, res_id, ${names} FROM ${table.table} WHERE (res_type, res_id) NOT IN ${batch}
      UNION ALL ` : ''}SELECT res_type, res_id, ${names} FROM json_to_recordset(${params.add(JSON.stringify(rowsByKind.get(kind) ?? []))}::json) AS x(${recordsetColumns(table)}))`);
  }
  const checks = searches.map((s, n) => `ARRAY(SELECT r.type || '/' || r.id FROM resource r WHERE ${whereSql(s, params, allowAll)}) AS m${n}`);
  let sql = `WITH ${ctes.join(',\n')}\nSELECT ${checks.join(', ')}`;
  // PostgreSQL refuses parameters it cannot type; some conditions bind values they do not use.
  const used = new Set(sql.match(/\$\d+/g));
  for (let n = 1; n <= params.values.length; n++) if (!used.has(`$${n}`)) sql += `, $${n}::text AS unused${n}`;
  const { rows } = await db.query<Record<string, string[]>>(sql, params.values);
  return searches.map((_, n) => new Set(rows[0][`m${n}`] ?? []));
}

/**
 * For each search (all of `resource`'s type), whether the stored version `resource` matches it.
 * `lastUpdated` is the version's meta.lastUpdated (for _lastUpdated criteria).
 */
export async function matchAll(db: Queryable, resource: Resource, searches: SearchRequest[]): Promise<boolean[]> {
  if (searches.length === 0) return [];
  const params = new SqlParams();
  const index = extractIndexRows(resource);
  const type = params.add(resource.resourceType);
  const id = params.add(resource.id);
  // Chains and _has look at other resources: then every other row stays visible and only this
  // resource is replaced by the new version. Otherwise the CTEs hold this version alone (fast).
  const others = searches.some((s) => s.filters.some((f) => (f as { kind?: string }).kind === 'chain' || (f as { kind?: string }).kind === 'has'));
  const ctes = [
    `resource AS NOT MATERIALIZED (
      ${others ? `SELECT type, id, version, last_updated, deleted, content, compartments FROM resource WHERE NOT (type = ${type} AND id = ${id})
      UNION ALL ` : ''}SELECT ${type}::text AS type, ${id}::text AS id, ${params.add(Number(resource.meta?.versionId ?? 1))}::int AS version,
        ${params.add(resource.meta?.lastUpdated ?? new Date().toISOString())}::timestamptz AS last_updated, false AS deleted,
        ${params.add(JSON.stringify(resource))}::text AS content, ${params.add(index.compartments)}::text[] AS compartments)`,
  ];
  for (const kind of INDEX_KINDS) {
    const { table, columns, types } = INDEX_TABLES[kind];
    const rows = index[kind] as unknown as Record<string, unknown>[];
    const arrays = ROW_FIELDS[kind].map((field, k) => `${params.add(rows.map((r) => r[field] ?? null))}::${types[k]}[]`);
    const names = columns.join(', ');
    // Inside its own definition the name still means the real table (WITH is not RECURSIVE).
    ctes.push(`${table} AS NOT MATERIALIZED (
      ${others ? `SELECT res_type, res_id, ${names} FROM ${table} WHERE NOT (res_type = ${type} AND res_id = ${id})
      UNION ALL ` : ''}SELECT ${type}::text AS res_type, ${id}::text AS res_id, * FROM unnest(${arrays.join(', ')}) AS u(${names}))`);
  }
  const checks = searches.map((s, n) => {
    if (s.resourceType !== resource.resourceType) return `false AS m${n}`;
    return `EXISTS (SELECT 1 FROM resource r WHERE r.type = ${type} AND r.id = ${id} AND ${whereSql(s, params, allowAll)}) AS m${n}`;
  });
  let sql = `WITH ${ctes.join(',\n')}\nSELECT ${checks.join(', ')}`;
  // PostgreSQL refuses parameters it cannot type; some conditions bind values they do not use.
  for (let n = params.values.length; n >= 1; n--) if (!new RegExp(`\\$${n}(?!\\d)`).test(sql)) sql += `, $${n}::text AS unused${n}`;
  const { rows } = await db.query<Record<string, boolean>>(sql, params.values);
  return searches.map((_, n) => rows[0][`m${n}`] === true);
}
