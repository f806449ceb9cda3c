/**
 * History of one resource, of a type, or of the whole server: newest first, `_since`, `_at`
 * (versions current at a moment) and keyset paging with an opaque `_cursor`.
 */
import type { Queryable } from '../../db/database.ts';
import { badRequest } from '../outcomes.ts';
import type { StoredVersion } from './repository.ts';

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions written after this instant. */
  since?: Date;
  /** Only versions written at or before this instant. */
  at?: Date;
  count: number;
  cursor?: string;
}

export interface HistoryPage {
  versions: StoredVersion[];
  /** Cursor of the next page, if there is one. */
  next?: string;
  /** Total versions matching (without paging). */
  total: number;
}

interface Position {
  lastUpdated: string;
  type: string;
  id: string;
  version: number;
}

function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.lastUpdated, p.type, p.id, p.version])).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const [lastUpdated, type, id, version] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof lastUpdated !== 'string' || typeof type !== 'string' || typeof id !== 'string' || typeof version !== 'number') {
      throw new Error('shape');
    }
    return { lastUpdated, type, id, version };
  } catch {
    throw badRequest('Invalid _cursor');
  }
}

export async function readHistory(db: Queryable, q: HistoryQuery): Promise<HistoryPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.type) add('type = ?', q.type);
  if (q.id) add('id = ?', q.id);
  if (q.since) add('last_updated > ?', q.since.toISOString());
  if (q.at) add('last_updated <= ?', q.at.toISOString());
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource_history ${filter}`, params)).rows[0].n;

  const pageWhere = [...where];
  const pageParams = [...params];
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    pageParams.push(c.lastUpdated, c.type, c.id, c.version);
    const n = pageParams.length;
    pageWhere.push(`(last_updated, type, id, version) < ($${n - 3}::timestamptz, $${n - 2}, $${n - 1}, $${n})`);
  }
  pageParams.push(q.count + 1);
  const { rows } = await db.query<StoredVersion>(
    `SELECT type, id, version, last_updated AS "lastUpdated", deleted, method, content
       FROM resource_history ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''}
      ORDER BY last_updated DESC, type DESC, id DESC, version DESC
      LIMIT $${pageParams.length}`,
    pageParams,
  );
  const versions = rows.slice(0, q.count);
  const last = versions[versions.length - 1];
  const next =
    rows.length > q.count && last
      ? encodeCursor({ lastUpdated: new Date(last.lastUpdated).toISOString(), type: last.type, id: last.id, version: last.version })
      : undefined;
  return { versions, next, total };
}
