/**
 * Batched reads of current rows by id, for reads made outside a transaction by callers the
 * access policy does not filter at row level. Reads that arrive while earlier ones are on their
 * way to the database wait and then go together as one statement (db/statement-batcher.ts) — the
 * read-side counterpart of group-commit.ts (the statement, not the row, is most of what a read by id costs).
 *
 * A read sees a committed state at least as new as when it was asked for: every statement starts
 * after the reads it carries were queued.
 */
import type { Queryable } from '../../db/database.ts';
import { onePerDatabase, StatementBatcher } from '../../db/statement-batcher.ts';
import type { StoredVersion } from './repository.ts';

/** Statements in flight at once. */
const MAX_IN_FLIGHT = 2;
/** Ids per statement at most. */
const MAX_BATCH = 100;

const READ_ONE_SQL = `SELECT type, id, version, last_updated AS "lastUpdated", deleted, content
   FROM resource r WHERE type = $1 AND id = $2`;

const READ_MANY_SQL = `SELECT r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.deleted, r.content
   FROM unnest($1::text[], $2::text[]) AS k(type, id)
   JOIN resource r ON r.type = k.type AND r.id = k.id`;

export class ReadBatch {
  /** Statements sent and rows asked for, for tests and diagnostics. */
  readonly stats = { statements: 0, reads: 0 };
  private readonly db: Queryable;
  private readonly batcher: StatementBatcher<{ type: string; id: string }, StoredVersion | undefined>;

  constructor(db: Queryable) {
    this.db = db;
    this.batcher = new StatementBatcher(async (batch) => {
      this.stats.statements++;
      this.stats.reads += batch.length;
      // A read alone takes the cheaper plain lookup.
      const { rows } =
        batch.length === 1
          ? await this.db.query<StoredVersion>(READ_ONE_SQL, [batch[0].item.type, batch[0].item.id], 'fhir_read_one')
          : await this.db.query<StoredVersion>(READ_MANY_SQL, [batch.map((r) => r.item.type), batch.map((r) => r.item.id)], 'fhir_read_many');
      const found = new Map(rows.map((row) => [`${row.type}/${row.id}`, row]));
      for (const r of batch) r.resolve(found.get(`${r.item.type}/${r.item.id}`));
    }, { maxInFlight: MAX_IN_FLIGHT, maxBatch: MAX_BATCH });
  }

  /** The current row of `type/id` (deleted rows included), or undefined when there is none. */
  read(type: string, id: string): Promise<StoredVersion | undefined> {
    return this.batcher.add({ type, id });
  }
}

/** The read batch shared by every repository on `db`. */
export const readBatchFor = onePerDatabase((db: Queryable) => new ReadBatch(db));
