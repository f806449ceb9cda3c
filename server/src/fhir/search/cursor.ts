/**
 * Keyset cursors, as carried by `_cursor` in paging links: the sort-key values of the row at
 * the edge of a page, the direction to walk from it, and the sort they belong to. Opaque to
 * clients (base64url JSON); anything that does not decode is a 400.
 */
import { badRequest } from '../outcomes.ts';

export interface Cursor {
  /** "next": rows after `values`; "prev": rows before them (the previous page). */
  direction: 'next' | 'prev';
  values: (string | null)[];
  signature: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ d: c.direction === 'next' ? 'n' : 'p', v: c.values, s: c.signature })).toString('base64url');
}

export function decodeCursor(raw: string, signature: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Malformed _cursor: use the links of a previous page');
  }
  const c = parsed as { d?: unknown; v?: unknown; s?: unknown };
  const valid =
    (c.d === 'n' || c.d === 'p') &&
    Array.isArray(c.v) &&
    c.v.every((x) => x === null || typeof x === 'string') &&
    typeof c.s === 'string';
  if (!valid) throw badRequest('Malformed _cursor: use the links of a previous page');
  if (c.s !== signature) throw badRequest('The _cursor belongs to a search with another _sort');
  return { direction: c.d === 'n' ? 'next' : 'prev', values: c.v as (string | null)[], signature };
}
