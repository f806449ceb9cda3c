/**
 * One SQL statement that writes any number of resource versions: the current row (upserted), a
 * history row, an outbox event (for background jobs) and the search-index rows (old ones of
 * replaced versions deleted). Everything is passed as column arrays, so the statement text never
 * changes and is prepared once.
 */
import type { Queryable } from '../../db/database.ts';
import type { IndexRows } from '../search/extract.ts';

export interface VersionRow {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The JSON served for this version; null for a deletion. */
  content: string | null;
  /** True when an earlier version exists (its index rows are replaced). */
  replaces: boolean;
  index: IndexRows;
}

const INDEX_TABLES = {
  string: { table: 'idx_string', columns: ['param', 'value', 'exact'], types: ['text', 'text', 'text'] },
  token: { table: 'idx_token', columns: ['param', 'system', 'code', 'text'], types: ['text', 'text', 'text', 'text'] },
  reference: { table: 'idx_reference', columns: ['param', 'target_type', 'target_id', 'url'], types: ['text', 'text', 'text', 'text'] },
  date: { table: 'idx_date', columns: ['param', 'low', 'high'], types: ['text', 'timestamptz', 'timestamptz'] },
  number: { table: 'idx_number', columns: ['param', 'value'], types: ['text', 'numeric'] },
  quantity: { table: 'idx_quantity', columns: ['param', 'value', 'system', 'code', 'unit'], types: ['text', 'numeric', 'text', 'text', 'text'] },
  uri: { table: 'idx_uri', columns: ['param', 'value'], types: ['text', 'text'] },
} as const;

type IndexKind = keyof typeof INDEX_TABLES;
const INDEX_KINDS = Object.keys(INDEX_TABLES) as IndexKind[];

/** Field of each row type that feeds each column, in column order. */
const ROW_FIELDS: Record<IndexKind, string[]> = {
  string: ['param', 'value', 'exact'],
  token: ['param', 'system', 'code', 'text'],
  reference: ['param', 'targetType', 'targetId', 'url'],
  date: ['param', 'low', 'high'],
  number: ['param', 'value'],
  quantity: ['param', 'value', 'system', 'code', 'unit'],
  uri: ['param', 'value'],
};

function buildStatement(): string {
  let n = 0;
  const p = () => `$${++n}`;
  // Resource columns: type, id, version, last_updated, deleted, method, content, compartments.
  const [t, i, v, lu, del, m, c, comp] = [p(), p(), p(), p(), p(), p(), p(), p()];
  // Resources whose previous index rows go.
  const [rt, ri] = [p(), p()];
  const parts: string[] = [
    `cur AS (
      INSERT INTO resource (type, id, version, last_updated, deleted, content, compartments)
      SELECT t, i, v, lu, del, c, comp::text[]
      FROM unnest(${t}::text[], ${i}::text[], ${v}::int[], ${lu}::timestamptz[], ${del}::boolean[], ${c}::text[], ${comp}::text[])
        AS u(t, i, v, lu, del, c, comp)
      ON CONFLICT (type, id) DO UPDATE SET version = EXCLUDED.version, last_updated = EXCLUDED.last_updated,
        deleted = EXCLUDED.deleted, content = EXCLUDED.content, compartments = EXCLUDED.compartments
      RETURNING 1)`,
    `hist AS (
      INSERT INTO resource_history (type, id, version, last_updated, deleted, method, content)
      SELECT * FROM unnest(${t}::text[], ${i}::text[], ${v}::int[], ${lu}::timestamptz[], ${del}::boolean[], ${m}::text[], ${c}::text[]))`,
    // Transactional outbox (migration 030): one event per written version, committed with it.
    `outbox AS (
      INSERT INTO outbox_event (res_type, res_id, version, method, last_updated)
      SELECT * FROM unnest(${t}::text[], ${i}::text[], ${v}::int[], ${m}::text[], ${lu}::timestamptz[]))`,
  ];
  for (const kind of INDEX_KINDS) {
    const { table, columns, types } = INDEX_TABLES[kind];
    parts.push(`del_${kind} AS (
      DELETE FROM ${table} WHERE (res_id, res_type) IN (SELECT * FROM unnest(${ri}::text[], ${rt}::text[])))`);
    const arrays = ['text', 'text', ...types].map((ty) => `${p()}::${ty}[]`);
    parts.push(`ins_${kind} AS (
      INSERT INTO ${table} (res_type, res_id, ${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')}))`);
  }
  return `WITH ${parts.join(',\n')}\nSELECT count(*)::int AS n FROM cur`;
}

const WRITE_VERSIONS_SQL = buildStatement();

/** Postgres array literal for a text[] cell nested inside a text[] parameter. */
function textArrayLiteral(values: string[]): string {
  return '{' + values.map((v) => '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

export function writeVersionsParams(rows: VersionRow[]): unknown[] {
  const params: unknown[] = [
    rows.map((r) => r.type),
    rows.map((r) => r.id),
    rows.map((r) => r.version),
    rows.map((r) => r.lastUpdated),
    rows.map((r) => r.deleted),
    rows.map((r) => r.method),
    rows.map((r) => r.content),
    rows.map((r) => textArrayLiteral(r.index.compartments)),
  ];
  const replaced = rows.filter((r) => r.replaces);
  params.push(replaced.map((r) => r.type), replaced.map((r) => r.id));
  for (const kind of INDEX_KINDS) {
    const fields = ROW_FIELDS[kind];
    const columns: unknown[][] = [[], [], ...fields.map(() => [])];
    for (const r of rows) {
      for (const indexRow of r.index[kind] as unknown as Record<string, unknown>[]) {
        columns[0].push(r.type);
        columns[1].push(r.id);
        fields.forEach((f, k) => columns[k + 2].push(indexRow[f] ?? null));
      }
    }
    params.push(...columns);
  }
  return params;
}

export async function writeVersions(db: Queryable, rows: VersionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(WRITE_VERSIONS_SQL, writeVersionsParams(rows), 'fhir_write_versions');
}
