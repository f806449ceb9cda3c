/**
 * Group commit for single-version writes made outside a transaction (a plain create). Writes that
 * arrive while earlier ones are still on their way to the database wait and then go together, as
 * one statement (one round trip, one commit; db/statement-batcher.ts) — the way a database groups
 * commits, done one step earlier. Under load this is what a create costs most: measured on the CORE benchmark, the
 * per-statement work (socket writes, executor start, commit) outweighed the rows themselves.
 *
 * Each write still succeeds or fails on its own: when a grouped statement fails, its writes are
 * retried one by one, so only the bad one sees the error. A quiet server sends each write at once;
 * grouping only happens while `MAX_IN_FLIGHT` statements are already running.
 */
import type { Queryable } from '../../db/database.ts';
import { onePerDatabase, StatementBatcher } from '../../db/statement-batcher.ts';
import { writeVersions, type VersionRow } from './write-sql.ts';

/** Statements in flight at once: enough to keep the database busy while the next group fills. */
const MAX_IN_FLIGHT = 2;
/** Versions per statement at most (keeps one statement's parameters small). */
const MAX_GROUP = 64;

export class GroupCommit {
  /** Statements sent and versions written, for tests and diagnostics. */
  readonly stats = { statements: 0, versions: 0 };
  private readonly db: Queryable;
  private readonly batcher: StatementBatcher<VersionRow[], void>;

  constructor(db: Queryable) {
    this.db = db;
    this.batcher = new StatementBatcher<VersionRow[], void>(async (group) => {
      try {
        await this.execute(group.flatMap((w) => w.item));
        for (const w of group) w.resolve();
      } catch (err) {
        if (group.length === 1) return group[0].reject(err);
        // One bad version fails the whole statement (nothing of it is committed): write each
        // write alone so that the others succeed and the bad one gets its own error.
        await Promise.all(group.map((w) => this.execute(w.item).then(w.resolve, w.reject)));
      }
    }, { maxInFlight: MAX_IN_FLIGHT, maxBatch: MAX_GROUP });
  }

  /**
   * Resolves once `rows` are committed — together, all or none (a version and its audit record);
   * rejects with the database's error for them.
   */
  write(rows: VersionRow[]): Promise<void> {
    return this.batcher.add(rows);
  }

  private async execute(rows: VersionRow[]): Promise<void> {
    this.stats.statements++;
    await writeVersions(this.db, rows);
    this.stats.versions += rows.length;
  }
}

/** The group-commit queue shared by every repository on `db`. */
export const groupCommitFor = onePerDatabase((db: Queryable) => new GroupCommit(db));
