/**
 * The FHIR repository: versioned create/read/update/patch/delete and history over PostgreSQL or
 * PGlite. One instance per request, built on a RequestContext; all reads and writes pass through
 * it, so access rules can later narrow them in one place. Knows nothing of HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import type { Database, Queryable } from '../../db/database.ts';
import type { RequestContext } from '../../context.ts';
import { ID_RE, localReferencesOf, type LocalReference } from '../references.ts';
import { extractIndexRows, emptyIndexRows } from '../search/extract.ts';
import { validateBatch } from '../validate-pool.ts';
import { assertValid, throwIfInvalid } from '../validate.ts';
import {
  badRequest,
  conflict,
  forbidden,
  gone,
  notFound,
  preconditionFailed,
  unprocessable,
} from '../outcomes.ts';
import { groupCommitFor } from './group-commit.ts';
import { assertReferencesExist } from './reference-check.ts';
import { readBatchFor } from './read-batch.ts';
import { stamp, versionRow, type StoredVersion, type WriteResult } from './versions.ts';
import { writeVersionGuarded, writeVersions, type VersionRow } from './write-sql.ts';
import { versionsCommitted } from '../../db/commit-signal.ts';
import { allowAll, type AccessPolicy } from '../../access/policy.ts';
import { SqlParams } from '../search/sql-params.ts';
import type { SearchRequest } from '../search/parse.ts';
import { runSearch, type SearchResult } from '../search/run.ts';
import { readHistory, type HistoryPage, type HistoryQuery } from './history.ts';
import { hasAfterWriteHooks, hasWriteHooks, runAfterWrite, runBeforeWrite, writeHooksFor } from './hooks.ts';
// Installs the scheduling write hooks: booking rules hold whoever writes (see ./hooks.ts).
import '../../scheduling/register.ts';
// Installs the care hooks: appointments grant history access through Consents (see ../../care/).
import '../../care/register.ts';

export type { StoredVersion, WriteResult } from './versions.ts';

export interface RepositoryOptions {
  referentialIntegrity: boolean;
  /**
   * Set only by the audit trail (care/audit.ts) for the AuditEvents it builds itself: their shape
   * is fixed and every variant is validated by its tests (audit-event.test.ts), so they skip the
   * validator, which would otherwise cost more than the read each one records.
   */
  trustedAuditEvents?: boolean;
}

interface WriteOptions {
  method: VersionRow['method'];
  /** Required current version (If-Match); a mismatch is 412. */
  ifMatch?: number;
  /**
   * `current` was read without a lock: write only if it is still current, else write nothing and
   * answer undefined (the caller retries under a lock).
   */
  optimistic?: boolean;
}

export class FhirRepository {
  /** Shared by the repositories of one transaction: whether it wrote anything (signalled at commit). */
  private txState: { wrote: boolean } | undefined;
  /** References checked at the end of the enclosing transaction instead of at each write. */
  private deferredReferences: LocalReference[] | undefined;

  readonly context: RequestContext;
  private readonly db: Database;
  private readonly options: RepositoryOptions;
  /** Set when this repository works inside an open transaction. */
  private readonly tx: Queryable | undefined;

  constructor(context: RequestContext, db: Database, options: RepositoryOptions, tx?: Queryable) {
    this.context = context;
    this.db = db;
    this.options = options;
    this.tx = tx;
  }

  private get q(): Queryable {
    return this.tx ?? this.db;
  }

  get inTransaction(): boolean {
    return this.tx !== undefined;
  }

  /**
   * Runs `work` with a repository bound to one database transaction (reusing the current one
   * when already inside). With `deferReferences`, references are checked once at the end, so that
   * resources may point at others created later in the same transaction.
   */
  async withTransaction<T>(work: (repo: FhirRepository) => Promise<T>, deferReferences = false): Promise<T> {
    if (this.tx) return work(this);
    const state = { wrote: false };
    const result = await this.db.transaction(async (tx) => {
      const repo = new FhirRepository(this.context, this.db, this.options, tx);
      repo.txState = state;
      if (deferReferences) repo.deferredReferences = [];
      const result = await work(repo);
      if (repo.deferredReferences?.length) {
        const pending = repo.deferredReferences;
        repo.deferredReferences = undefined;
        await assertReferencesExist(tx, pending);
      }
      return result;
    });
    if (state.wrote) versionsCommitted();
    return result;
  }

  /** Records a write: signalled at once outside a transaction, at commit inside one. */
  private markWritten(): void {
    if (this.txState) this.txState.wrote = true;
    else versionsCommitted();
  }

  /** This repository's transaction with the platform's own rights (write hooks' side effects). */
  asPlatform(options: Partial<RepositoryOptions> = {}): FhirRepository {
    const repo = new FhirRepository({ requestId: this.context.requestId }, this.db, { ...this.options, ...options }, this.tx);
    repo.txState = this.txState;
    return repo;
  }

  /** Raw query access for operations, on the same transaction. Bypasses access rules: use with care. */
  get queryable(): Queryable {
    return this.q;
  }

  get access(): AccessPolicy {
    return this.context.access ?? allowAll;
  }

  /** Who writes through this repository (recorded on each version): the caller's FHIR user or subject. */
  private get author(): string | null {
    const caller = this.context.caller;
    return caller ? (caller.fhirUser ?? caller.subject) : null;
  }

  /** Whether a policy limits this caller (the platform itself is not limited). */
  private get restricted(): boolean {
    return this.context.access !== undefined && this.context.access !== allowAll;
  }

  /** The current row of a resource, if the caller may see it (deleted rows included). */
  async readVersion(type: string, id: string): Promise<StoredVersion | undefined> {
    const params = new SqlParams();
    const typeParam = params.add(type);
    const idParam = params.add(id);
    const visible = this.access.visibleRows(type, 'r', params);
    // Unfiltered reads outside a transaction may share a statement with other requests' reads.
    if (!visible && !this.tx) return readBatchFor(this.db).read(type, id);
    const { rows } = await this.q.query<StoredVersion>(
      `SELECT type, id, version, last_updated AS "lastUpdated", deleted, content
         FROM resource r WHERE type = ${typeParam} AND id = ${idParam}${visible ? ` AND (${visible})` : ''}`,
      params.values,
      visible ? undefined : 'fhir_read',
    );
    return rows[0];
  }

  /** The current version; 404 when unknown or not visible to the caller, 410 when deleted. */
  async read(type: string, id: string): Promise<StoredVersion> {
    this.access.checkInteraction(type, 'read');
    if (!ID_RE.test(id)) throw notFound(`${type}/${id} not found`);
    const row = await this.readVersion(type, id);
    if (!row) throw notFound(`${type}/${id} not found`);
    if (row.deleted) throw gone(`${type}/${id} was deleted`);
    this.context.audit?.read(this.context, 'read', [row]);
    return (await this.redacted([row]))[0];
  }

  /** Versions as this caller may see them (the policy may hide elements, e.g. video room links). */
  private async redacted(versions: StoredVersion[]): Promise<StoredVersion[]> {
    return this.access.redact && versions.length ? this.access.redact(versions, this.q) : versions;
  }

  async readResource<T extends Resource = Resource>(type: string, id: string): Promise<T> {
    return JSON.parse((await this.read(type, id)).content as string) as T;
  }

  async vread(type: string, id: string, version: string): Promise<StoredVersion> {
    this.access.checkInteraction(type, 'vread');
    // Old versions are visible exactly when the resource's current row is.
    if (!(await this.readVersion(type, id))) throw notFound(`${type}/${id} not found`);
    const v = Number(version);
    if (!ID_RE.test(id) || !Number.isInteger(v) || v < 1) throw notFound(`${type}/${id}/_history/${version} not found`);
    const { rows } = await this.q.query<StoredVersion>(
      `SELECT type, id, version, last_updated AS "lastUpdated", deleted, method, content
         FROM resource_history WHERE type = $1 AND id = $2 AND version = $3`,
      [type, id, v],
      'fhir_vread',
    );
    const row = rows[0];
    if (!row) throw notFound(`${type}/${id}/_history/${version} not found`);
    if (row.deleted) throw gone(`${type}/${id}/_history/${version} is a deletion`);
    this.context.audit?.read(this.context, 'vread', [row]);
    return (await this.redacted([row]))[0];
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    for (const type of [request.resourceType, ...(request.otherTypes ?? []).map((b) => b.resourceType)]) {
      this.access.checkInteraction(type, 'search');
    }
    const result = await runSearch(this.q, request, this.access);
    this.context.audit?.read(this.context, 'search-type', [...result.matches, ...result.included]);
    if (!this.access.redact) return result;
    return { ...result, matches: await this.redacted(result.matches), included: await this.redacted(result.included) };
  }

  /**
   * History of one resource (visible to the caller), of a type, or of the system. Type and
   * system history are refused by policies that limit rows, since past versions of rows the
   * caller cannot see now must not leak.
   */
  async history(query: HistoryQuery): Promise<HistoryPage> {
    this.access.checkInteraction(query.type, 'history');
    if (query.id && query.type) {
      const current = await this.readVersion(query.type, query.id);
      if (!current) throw notFound(`${query.type}/${query.id} not found`);
    } else {
      const limited = query.type ? this.access.visibleRows(query.type, 'r', new SqlParams()) : this.restricted;
      if (limited) throw forbidden('History of a type or of the whole server is not available to this caller; ask for one resource\'s history');
    }
    const page = await readHistory(this.q, query);
    this.context.audit?.read(this.context, 'history', page.versions);
    return this.access.redact ? { ...page, versions: await this.redacted(page.versions) } : page;
  }

  // ---------------------------------------------------------------- writes

  /** Creates a resource with a new server-assigned id (any id in the body is replaced). */
  async create<T extends Resource>(resource: T): Promise<WriteResult> {
    this.access.checkInteraction(resource.resourceType, 'create');
    const r = { ...resource, id: randomUUID() } as T;
    return this.write(r, undefined, { method: 'POST' });
  }

  /**
   * Replaces the resource with `resource.id` (creating it with that id when it does not exist:
   * update-as-create). `ifMatch` makes it conditional on the current version.
   */
  async update<T extends Resource>(resource: T, options: { ifMatch?: number; method?: 'PUT' | 'PATCH' } = {}): Promise<WriteResult> {
    this.access.checkInteraction(resource.resourceType, 'update');
    const id = resource.id;
    if (!id || !ID_RE.test(id)) throw badRequest('Resource id is missing or malformed', ['id']);
    const writeOptions: WriteOptions = { method: options.method ?? 'PUT', ifMatch: options.ifMatch };
    if (!this.tx && !this.needsTransaction(resource.resourceType)) {
      // Two round trips instead of four (begin, lock, write, commit): read the current version,
      // then write only if it is still current. Only a concurrent write makes it go the locked way.
      // The row is read whatever the caller may see, as the lock would; writeVersion then applies
      // the policy to it, and the guard makes sure it is still current when the write lands.
      const current = await readBatchFor(this.db).read(resource.resourceType, id);
      const written = await this.writeVersion(resource, current, { ...writeOptions, optimistic: true });
      if (written) return written;
    }
    return this.withTransaction(async (repo) => {
      const current = await repo.lockCurrent(resource.resourceType, id);
      return repo.write(resource, current, writeOptions);
    });
  }

  /**
   * Whether a write of `type` needs a transaction of its own: write hooks must commit or roll back
   * with it, and so must its audit record, which otherwise rides in the write's own statement (the
   * group commit, or the guarded write) unless AuditEvent has hooks that run after a write.
   */
  private needsTransaction(type: string): boolean {
    return hasWriteHooks(type) || (this.context.audit !== undefined && hasAfterWriteHooks('AuditEvent'));
  }

  /** Applies a JSON Patch (RFC 6902) to the current version. */
  async patch(type: string, id: string, operations: Operation[], ifMatch?: number): Promise<WriteResult> {
    this.access.checkInteraction(type, 'patch');
    if (!Array.isArray(operations)) throw badRequest('A JSON Patch body must be an array of operations');
    return this.withTransaction(async (repo) => {
      const current = await repo.lockCurrent(type, id);
      if (!current) throw notFound(`${type}/${id} not found`);
      if (current.deleted) throw gone(`${type}/${id} was deleted`);
      const doc = JSON.parse(current.content as string) as Resource;
      let patched: Resource;
      try {
        const error = fastJsonPatch.validate(operations, doc);
        if (error) throw error;
        patched = fastJsonPatch.applyPatch(doc, operations, true, false).newDocument;
      } catch (err) {
        const message = (err as Error).message?.split('\n')[0] ?? 'invalid patch';
        // A failed "test" operation is a failed precondition; anything else is a bad patch.
        if ((err as { name?: string }).name === 'TEST_OPERATION_FAILED') throw unprocessable(`Patch test failed: ${message}`);
        throw badRequest(`Invalid JSON Patch: ${message}`);
      }
      if (patched.resourceType !== type || patched.id !== id) throw badRequest('A patch may not change resourceType or id');
      return repo.write(patched, current, { method: 'PATCH', ifMatch });
    });
  }

  /**
   * Creates many resources with new server-assigned ids in one statement (bulk ingest inside
   * transactions). `ids` may supply the ids to use (e.g. pre-assigned for urn:uuid entries).
   */
  async createMany(resources: Resource[], ids?: string[]): Promise<WriteResult[]> {
    for (const type of new Set(resources.map((r) => r.resourceType))) this.access.checkInteraction(type, 'create');
    if (!this.tx && (this.context.audit || resources.some((r) => hasWriteHooks(r.resourceType)))) {
      return this.withTransaction((repo) => repo.createMany(resources, ids));
    }
    const { rows, results } = await this.prepareCreates(resources, ids);
    await this.checkReferences(results.map((r) => r.resource));
    for (let i = 0; i < rows.length; i += 250) await writeVersions(this.q, rows.slice(i, i + 250));
    this.markWritten();
    for (const type of new Set(results.map((r) => r.resource.resourceType))) {
      const created = results.filter((r) => r.resource.resourceType === type).map((r) => r.resource);
      for (const hook of writeHooksFor(type)) {
        if (hook.afterCreateMany) await hook.afterCreateMany(this, created);
        else if (hook.afterWrite) for (const r of created) await hook.afterWrite(this, r, undefined);
      }
    }
    await this.context.audit?.wrote(this, 'C', results.map((r) => r.stored));
    return results;
  }

  /**
   * Stamps, checks, runs the before-write hooks on, validates and indexes new resources. A big
   * batch is validated on worker threads (validate-pool.ts) once every resource is stamped; the
   * first invalid one fails the batch, as if each had been validated in turn.
   */
  private async prepareCreates(resources: Resource[], ids?: string[]): Promise<{ rows: VersionRow[]; results: WriteResult[] }> {
    const lastUpdated = new Date().toISOString();
    const stampedAll: Resource[] = [];
    try {
      for (let i = 0; i < resources.length; i++) {
        let stamped = stamp(resources[i], ids?.[i] ?? randomUUID(), 1, lastUpdated);
        await this.access.checkWrite(stamped.resourceType, stamped, undefined, this.q);
        const hooked = await runBeforeWrite(this, stamped.resourceType, stamped, undefined);
        if (hooked && hooked !== stamped) stamped = stamp(hooked, stamped.id as string, 1, lastUpdated);
        stampedAll.push(stamped);
      }
    } catch (err) {
      // A refusal of resource k comes after any validation error of resources 0..k-1.
      for (const stamped of stampedAll) this.validate(stamped);
      throw err;
    }
    const contents = stampedAll.map((r) => JSON.stringify(r));
    const checked = stampedAll.flatMap((r, i) => (this.trusted(r) ? [] : [i]));
    const errors = await validateBatch(checked.map((i) => stampedAll[i]), checked.map((i) => contents[i]));
    for (const e of errors) throwIfInvalid(e);
    const results: WriteResult[] = [];
    const rows: VersionRow[] = [];
    for (const [i, stamped] of stampedAll.entries()) {
      const row = versionRow(stamped, 1, lastUpdated, 'POST', false, this.author, contents[i]);
      rows.push(row);
      results.push({
        resource: stamped,
        stored: { type: row.type, id: row.id, version: 1, lastUpdated: new Date(lastUpdated), deleted: false, content: row.content },
        created: true,
      });
    }
    return { rows, results };
  }

  /** The rows of the audit record of a write (none when it touches no patient data or no one audits). */
  private async auditRowsFor(action: 'C' | 'U' | 'D', stored: StoredVersion): Promise<VersionRow[]> {
    const event = this.context.audit?.writeEvent(this.context, action, [stored]);
    if (!event) return [];
    return (await this.asPlatform({ referentialIntegrity: false, trustedAuditEvents: true }).prepareCreates([event])).rows;
  }

  /** Soft delete: a new version marked deleted; history keeps every version. Idempotent. */
  async delete(type: string, id: string, ifMatch?: number): Promise<StoredVersion | undefined> {
    this.access.checkInteraction(type, 'delete');
    return this.withTransaction(async (repo) => {
      const current = await repo.lockCurrent(type, id);
      if (repo.restricted && current && !(await repo.readVersion(type, id))) throw notFound(`${type}/${id} not found`);
      if (current && !current.deleted) await repo.access.checkWrite(type, undefined, JSON.parse(current.content as string), repo.q);
      if (ifMatch !== undefined && current?.version !== ifMatch) {
        throw preconditionFailed(`Version mismatch: ${type}/${id} is at version ${current?.version ?? 'none'}, not ${ifMatch}`);
      }
      if (!current || current.deleted) return current;
      const previous = JSON.parse(current.content as string) as Resource;
      await runBeforeWrite(repo, type, undefined, previous);
      const row: VersionRow = {
        type,
        id,
        version: current.version + 1,
        lastUpdated: new Date().toISOString(),
        deleted: true,
        method: 'DELETE',
        content: null,
        replaces: true,
        index: emptyIndexRows(),
        author: repo.author,
      };
      await writeVersions(repo.q, [row]);
      repo.markWritten();
      await runAfterWrite(repo, type, undefined, previous);
      await repo.context.audit?.wrote(repo, 'D', [{ type, id, version: row.version, lastUpdated: new Date(row.lastUpdated), deleted: true, content: current.content }]);
      return { type, id, version: row.version, lastUpdated: new Date(row.lastUpdated), deleted: true, content: null };
    });
  }

  /** The current row, locked until the transaction ends (so concurrent writers queue). */
  private async lockCurrent(type: string, id: string): Promise<StoredVersion | undefined> {
    const { rows } = await this.q.query<StoredVersion>(
      `SELECT type, id, version, last_updated AS "lastUpdated", deleted, content
         FROM resource WHERE type = $1 AND id = $2 FOR UPDATE`,
      [type, id],
      'fhir_lock_current',
    );
    return rows[0];
  }

  /** Validates, stamps meta, indexes and stores one new version. */
  private async write(resource: Resource, current: StoredVersion | undefined, options: Omit<WriteOptions, 'optimistic'>): Promise<WriteResult> {
    if (!this.tx && this.needsTransaction(resource.resourceType)) {
      return this.withTransaction((repo) => repo.write(resource, current, options));
    }
    return (await this.writeVersion(resource, current, options)) as WriteResult;
  }

  /** write() once the transaction question is settled; undefined: see WriteOptions.optimistic. */
  private async writeVersion(resource: Resource, current: StoredVersion | undefined, options: WriteOptions): Promise<WriteResult | undefined> {
    if (options.ifMatch !== undefined && current?.version !== options.ifMatch) {
      throw preconditionFailed(
        `Version mismatch: ${resource.resourceType}/${resource.id} is at version ${current?.version ?? 'none'}, not ${options.ifMatch}`,
      );
    }
    if (this.restricted && current && !current.deleted && !(await this.readVersion(current.type, current.id))) {
      // Writing over a resource the caller cannot see answers like a read would.
      throw notFound(`${current.type}/${current.id} not found`);
    }
    const version = (current?.version ?? 0) + 1;
    const lastUpdated = new Date().toISOString();
    let stamped = stamp(resource, resource.id as string, version, lastUpdated);
    const previous = current && !current.deleted ? (JSON.parse(current.content as string) as Resource) : undefined;
    await this.access.checkWrite(stamped.resourceType, stamped, previous, this.q);
    const hooked = await runBeforeWrite(this, stamped.resourceType, stamped, previous);
    if (hooked && hooked !== stamped) stamped = stamp(hooked, resource.id as string, version, lastUpdated);
    const row = this.prepareVersion(stamped, version, lastUpdated, options.method, current !== undefined);
    await this.checkReferences([stamped]);
    const content = row.content as string;
    const stored: StoredVersion = { type: row.type, id: row.id, version, lastUpdated: new Date(lastUpdated), deleted: false, content };
    const action = previous ? 'U' : 'C';
    let audited = false;
    try {
      if (options.optimistic) {
        const auditRows = await this.auditRowsFor(action, stored);
        if (!(await writeVersionGuarded(this.db, row, auditRows))) return undefined;
        audited = true;
      } else if (this.tx) await writeVersions(this.tx, [row]);
      else {
        // Outside a transaction the version commits on its own, so it may share a statement with
        // other requests' versions (group-commit.ts); its audit record goes in the same one.
        const auditRows = await this.auditRowsFor(action, stored);
        await groupCommitFor(this.db).write([row, ...auditRows]);
        audited = true;
      }
      this.markWritten();
    } catch (err) {
      // Two creates of the same client-chosen id raced: the loser sees a unique violation.
      if ((err as { code?: string }).code === '23505') throw conflict(`${row.type}/${row.id} was written concurrently; retry`);
      throw err;
    }
    await runAfterWrite(this, stamped.resourceType, stamped, previous);
    if (!audited) await this.context.audit?.wrote(this, action, [stored]);
    return { resource: stamped, stored, created: !current || current.deleted };
  }

  /** Validates a stamped resource and turns it into the row that stores it. */
  private prepareVersion(stamped: Resource, version: number, lastUpdated: string, method: VersionRow['method'], replaces: boolean): VersionRow {
    this.validate(stamped);
    return versionRow(stamped, version, lastUpdated, method, replaces, this.author);
  }

  /** Throws a 400 for an invalid resource. */
  private validate(stamped: Resource): void {
    if (!this.trusted(stamped)) assertValid(stamped);
  }

  /** The audit trail's own AuditEvents skip validation when so set (RepositoryOptions). */
  private trusted(resource: Resource): boolean {
    return !!this.options.trustedAuditEvents && resource.resourceType === 'AuditEvent';
  }

  /**
   * Checks that the local references of `resources` exist (422 if not): now, or at the end of the
   * transaction when it may still create them. Nothing when referential integrity is off.
   */
  private async checkReferences(resources: Resource[]): Promise<void> {
    if (!this.options.referentialIntegrity) return;
    const references = resources.flatMap((res) => localReferencesOf(res).filter((r) => !(r.type === res.resourceType && r.id === res.id)));
    if (references.length === 0) return;
    if (this.deferredReferences) this.deferredReferences.push(...references);
    else await assertReferencesExist(this.q, references);
  }
}
