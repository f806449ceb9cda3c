/**
 * The FHIR client a bot acts through: a FhirRepository whose RequestContext names the bot
 * (subject `bot:<name>`) and lists its scopes, bound to the job's transaction, with every call
 * checked against those scopes. When the SMART server issues backend-services tokens, a client
 * speaking HTTP with the bot's own token can implement the same `FhirClient` interface
 * (createIfNoneExist then becomes a conditional create with If-None-Exist).
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Bot, FhirClient, SearchQuery } from '../../../bots/types.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { RequestContext } from '../context.ts';
import { forbidden } from '../fhir/outcomes.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { parseSearch } from '../fhir/search/parse.ts';

type Action = 'c' | 'r' | 'u' | 'd' | 's';

/** Whether SMART v2 (`system/Type.cruds`) or v1 (`system/Type.read|write|*`) scopes allow `action` on `type`. */
export function scopesAllow(scopes: string[], type: string, action: Action): boolean {
  return scopes.some((scope) => {
    const m = /^system\/([A-Za-z*]+)\.([a-z*]+)$/.exec(scope);
    if (!m || (m[1] !== '*' && m[1] !== type)) return false;
    const perms = m[2];
    if (perms === '*') return true;
    if (perms === 'read') return action === 'r' || action === 's';
    if (perms === 'write') return action === 'c' || action === 'u' || action === 'd';
    return perms.includes(action);
  });
}

export function botContext(bot: Pick<Bot, 'name' | 'scopes'>): RequestContext {
  return { requestId: randomUUID(), caller: { subject: `bot:${bot.name}`, clientId: `bot-${bot.name}`, scopes: bot.scopes } };
}

/** Thrown by a read-only client (see `readOnlyClient`) when the bot wants to write. */
export class WriteWanted extends Error {
  constructor() {
    super('This bot run writes: it must run in a transaction');
    this.name = 'WriteWanted';
  }
}

/**
 * A client for a first, read-only run of a bot outside any transaction: most runs only read and
 * decide there is nothing to do, and need neither a transaction nor an idempotency row. The
 * first write attempt sets `wrote` (even if the bot catches the error) and throws; the caller
 * then runs the bot again in a transaction with `repositoryClient`.
 */
export function readOnlyClient(bot: Pick<Bot, 'name' | 'scopes'>, db: Database, referentialIntegrity: boolean): { client: FhirClient; wrote: () => boolean } {
  let wrote = false;
  const inner = repositoryClient(bot, db, undefined, referentialIntegrity);
  const refuse = async (): Promise<never> => {
    wrote = true;
    throw new WriteWanted();
  };
  return {
    client: { read: inner.read, search: inner.search, create: refuse, update: refuse, createIfNoneExist: refuse },
    wrote: () => wrote,
  };
}

export function repositoryClient(bot: Pick<Bot, 'name' | 'scopes'>, db: Database, tx: Queryable | undefined, referentialIntegrity: boolean): FhirClient {
  const repo = new FhirRepository(botContext(bot), db, { referentialIntegrity }, tx);
  const check = (type: string, action: Action) => {
    if (!scopesAllow(bot.scopes, type, action)) throw forbidden(`Bot ${bot.name} has no scope for ${action} on ${type}`);
  };
  const client: FhirClient = {
    async read(type, id) {
      check(type, 'r');
      return repo.readResource(type, id);
    },
    async search<T extends Resource>(type: T['resourceType'], query: SearchQuery = {}) {
      check(type, 's');
      const result = await repo.search(parseSearch(type, { _count: '100', ...query }));
      return result.matches.map((m) => JSON.parse(m.content as string) as T);
    },
    async create(resource) {
      check(resource.resourceType, 'c');
      return (await repo.create(resource)).resource as typeof resource;
    },
    async update(resource) {
      check(resource.resourceType, 'u');
      return (await repo.update(resource)).resource as typeof resource;
    },
    async createIfNoneExist(resource, identifier) {
      check(resource.resourceType, 'c');
      // The claim row serialises concurrent runs: a second one waits for the first to commit,
      // then sees the conflict and creates nothing.
      if (!tx) throw new WriteWanted();
      const { rowCount } = await tx.query(
        `INSERT INTO job_delivery (event_key, handler, status) VALUES ($1, 'create-if-none-exist', 'done') ON CONFLICT DO NOTHING`,
        [`${resource.resourceType}|${identifier.system}|${identifier.value}`],
        'jobs_create_once',
      );
      if (rowCount === 0) return undefined;
      const withId = { ...resource, identifier: [...((resource as { identifier?: unknown[] }).identifier ?? []), identifier] };
      return (await repo.create(withId)).resource as typeof resource;
    },
  };
  return client;
}
