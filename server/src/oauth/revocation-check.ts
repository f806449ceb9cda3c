/**
 * Whether tokens are revoked, asked at every use of an access token. Checks that arrive while
 * earlier ones are on their way to the database share the next statement
 * (db/statement-batcher.ts): every request still gets an answer from a statement that started
 * after it asked, so a revocation is seen by every request that starts after it committed.
 */
import type { Queryable } from '../db/database.ts';
import { onePerDatabase, StatementBatcher } from '../db/statement-batcher.ts';

const checksFor = onePerDatabase(
  (db: Queryable) =>
    new StatementBatcher<string[], boolean>(
      async (batch) => {
        const ids = [...new Set(batch.flatMap((p) => p.item))];
        const { rows } = await db.query<{ id: string }>(
          'SELECT id FROM oauth_revocation WHERE id = ANY($1::text[]) AND expires_at > now()',
          [ids],
          'oauth_revoked_ids',
        );
        const revoked = new Set(rows.map((r) => r.id));
        for (const p of batch) p.resolve(p.item.some((id) => revoked.has(id)));
      },
      { maxInFlight: 2, maxBatch: 200 },
    ),
);

/** True when any of `ids` (a token id, its family id) is revoked. */
export function isRevoked(db: Queryable, ids: string[]): Promise<boolean> {
  if (ids.length === 0) return Promise.resolve(false);
  return checksFor(db).add(ids);
}
