/**
 * The access seam. Every repository call consults the request's AccessPolicy: which
 * interactions a caller may use on a type, which rows it may see (as a SQL condition compiled
 * into every query, so nothing leaks through counts, includes or chains), and whether a write is
 * allowed. AUTH (scopes, roles) and CARE (consent, authorship) supply real policies; the
 * platform itself runs with `allowAll`.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { SqlParams } from '../fhir/search/sql-params.ts';
import type { Queryable } from '../db/database.ts';
import type { StoredVersion } from '../fhir/repo/repository.ts';

export type Interaction = 'read' | 'vread' | 'search' | 'history' | 'create' | 'update' | 'patch' | 'delete';

export interface AccessPolicy {
  /** Throws an OperationOutcomeError (401/403) when the caller may never use `interaction` on `type`. */
  checkInteraction(type: string | undefined, interaction: Interaction): void;
  /**
   * A SQL condition over the resource table aliased `alias` that is true for rows of `type` the
   * caller may see, or undefined when every row of the type is visible. Values go through
   * `params`; the condition must not refer to anything but `alias`'s columns and subqueries.
   */
  visibleRows(type: string, alias: string, params: SqlParams): string | undefined;
  /**
   * Checks a write: `next` is the version about to be stored (undefined for a delete),
   * `previous` the current one (undefined for a create). Throws to refuse. Any lookups go
   * through `q`, the write's own connection (an embedded database has only one).
   */
  checkWrite(type: string, next: Resource | undefined, previous: Resource | undefined, q: Queryable): Promise<void> | void;
  /**
   * Optional: the versions a read, search or history returns, as this caller may see them —
   * for elements only some of those who see the resource may see (e.g. a video room link).
   */
  redact?(versions: StoredVersion[], q: Queryable): Promise<StoredVersion[]>;
}

/** The platform's own policy: everything is allowed. */
export const allowAll: AccessPolicy = {
  checkInteraction() {},
  visibleRows() {
    return undefined;
  },
  checkWrite() {},
};
