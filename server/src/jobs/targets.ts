/**
 * The two halves of every event's work, shared by the BullMQ workers and the in-process runner.
 * `fanOut` decides, against the version just written, who must hear of it: active Subscriptions
 * whose criteria match, bots whose trigger matches, and platform handlers (the Communication
 * sender, Subscription activation). `deliver` then does one target's work, exactly once for
 * database effects (see idempotency.ts). `runSchedule` runs the scheduled bots.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { bots } from '../../../bots/index.ts';
import type { Bot, BotSettings } from '../../../bots/types.ts';
import type { SearchRequest } from '../fhir/search/parse.ts';
import { log } from '../log.ts';
import { SEND_CRITERIA, sendCommunication } from '../notify/sender.ts';
import { ACTIVATE_CRITERIA, activateSubscription } from '../subscriptions/activate.ts';
import { deliverToSubscription } from '../subscriptions/deliver.ts';
import { matchBatch, parseCriteria } from '../subscriptions/matcher.ts';
import { readOnlyClient, repositoryClient } from './bot-client.ts';
import { eventKey, targetKey, type ChangeEvent, type Target } from './events.ts';
import { once } from './idempotency.ts';
import type { JobServices } from './services.ts';

const PLATFORM: { name: string; criteria: string; run: (svc: JobServices, e: ChangeEvent) => Promise<void> }[] = [
  { name: 'send-communication', criteria: SEND_CRITERIA, run: (svc, e) => sendCommunication(svc, e.id) },
  { name: 'activate-subscription', criteria: ACTIVATE_CRITERIA, run: (svc, e) => activateSubscription(svc, e.id) },
];

/** Parsed criteria, cached by text (criteria strings repeat across events). */
const parsed = new Map<string, SearchRequest | null>();
function criteriaOf(criteria: string): SearchRequest | undefined {
  if (!parsed.has(criteria)) {
    let req: SearchRequest | null = null;
    try {
      req = parseCriteria(criteria);
    } catch {
      /* invalid criteria never match; activation reports them */
    }
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(criteria, req);
  }
  return parsed.get(criteria) ?? undefined;
}

/** The stored JSON of each version (null for a deletion or an unknown version), in one query. */
async function loadContents(svc: JobServices, events: ChangeEvent[]): Promise<(string | null)[]> {
  if (events.length === 0) return [];
  const { rows } = await svc.db.query<{ type: string; id: string; version: number; content: string | null }>(
    `SELECT h.type, h.id, h.version, h.content
       FROM unnest($1::text[], $2::text[], $3::int[]) AS k(type, id, version)
       JOIN resource_history h ON h.type = k.type AND h.id = k.id AND h.version = k.version`,
    [events.map((e) => e.type), events.map((e) => e.id), events.map((e) => e.version)],
    'jobs_load_versions',
  );
  const byKey = new Map(rows.map((r) => [eventKey(r), r.content]));
  return events.map((e) => byKey.get(eventKey(e)) ?? null);
}

/** The stored version an event names (undefined for a deletion). */
export async function loadVersion(svc: JobServices, e: ChangeEvent): Promise<Resource | undefined> {
  const [content] = await loadContents(svc, [e]);
  return content ? (JSON.parse(content) as Resource) : undefined;
}

/** Subscriptions that deliver (active, or in error and still retrying), with their criteria. */
async function deliveringSubscriptions(svc: JobServices): Promise<{ id: string; type: string; criteria: string }[]> {
  const { rows } = await svc.db.query<{ content: string }>(
    `SELECT content FROM resource WHERE type = 'Subscription' AND NOT deleted`,
    [],
    'jobs_subscriptions',
  );
  return rows
    .map((r) => JSON.parse(r.content) as Subscription)
    .filter((s) => (s.status === 'active' || s.status === 'error') && typeof s.criteria === 'string')
    .map((s) => ({ id: s.id as string, type: s.criteria.split('?')[0].trim(), criteria: s.criteria }));
}

export interface FannedOut {
  /** The version the event names, when anyone may hear of it (undefined for a deletion). */
  resource: Resource | undefined;
  /** Its stored JSON, likewise (delivery jobs carry it). */
  content?: string;
  targets: Target[];
}

/**
 * Fan-out of a batch of events with a constant number of queries, whatever the batch size: the
 * Subscriptions are read once, the versions that anyone may hear of are loaded together, and
 * every (version, criteria) pair is decided by one matching query per "layer" (a layer holds at
 * most one version of each resource, so a batch that holds v1 and v2 of one resource takes two).
 * Per event: the platform handlers, bots and delivering Subscriptions whose criteria match the
 * version just written. Events of types nobody listens to (most of them: AuditEvents, imports)
 * cost no load and no parse.
 */
export async function fanOutBatch(svc: JobServices, rows: (ChangeEvent & { content?: string | null })[]): Promise<FannedOut[]> {
  const out: FannedOut[] = rows.map(() => ({ resource: undefined, targets: [] }));
  const types = new Set(rows.map((r) => r.type));
  const candidates: { target: Target; type: string; criteria: string }[] = [
    ...PLATFORM.map((p) => ({ target: { kind: 'platform' as const, name: p.name }, type: p.criteria.split('?')[0], criteria: p.criteria })),
    ...bots.flatMap((b) => ('criteria' in b.trigger ? [{ target: { kind: 'bot' as const, name: b.name }, type: b.trigger.criteria.split('?')[0].trim(), criteria: b.trigger.criteria }] : [])),
    ...(await deliveringSubscriptions(svc)).map((s) => ({ target: { kind: 'subscription' as const, name: s.id }, type: s.type, criteria: s.criteria })),
  ].filter((c) => types.has(c.type) && criteriaOf(c.criteria));
  if (candidates.length === 0) return out;
  // The versions someone may hear of; deletions notify nobody.
  const heard = new Set(candidates.map((c) => c.type));
  const heardRows = rows.flatMap((r, n) => (heard.has(r.type) && r.method !== 'DELETE' ? [n] : []));
  const contents = new Map(heardRows.map((n) => [n, rows[n].content]));
  const toLoad = heardRows.filter((n) => contents.get(n) === undefined);
  const loaded = await loadContents(svc, toLoad.map((n) => rows[n]));
  toLoad.forEach((n, k) => contents.set(n, loaded[k]));
  const resources: (Resource | undefined)[] = rows.map(() => undefined);
  for (const n of heardRows) {
    const content = contents.get(n);
    if (!content) continue;
    resources[n] = JSON.parse(content) as Resource;
    out[n].resource = resources[n];
    out[n].content = content;
  }
  if (candidates.length === 0) return out;
  const distinct = [...new Set(candidates.map((c) => c.criteria))];
  const searches = distinct.map((c) => criteriaOf(c) as SearchRequest);
  // Layers: the k-th version of a resource within the batch goes to layer k.
  const layers: number[][] = [];
  const seen = new Map<string, number>();
  resources.forEach((r, n) => {
    if (!r) return;
    const key = `${r.resourceType}/${r.id}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    (layers[k] ??= []).push(n);
  });
  for (const layer of layers) {
    const layerTypes = new Set<string>(layer.map((n) => (resources[n] as Resource).resourceType));
    const wanted = distinct.map((c, k) => ({ c, k })).filter(({ c }) => layerTypes.has(c.split('?')[0].trim()));
    const matched = await matchBatch(svc.db, layer.map((n) => resources[n] as Resource), wanted.map(({ k }) => searches[k]));
    const byCriteria = new Map(wanted.map(({ c }, i) => [c, matched[i]]));
    for (const n of layer) {
      const r = resources[n] as Resource;
      const key = `${r.resourceType}/${r.id}`;
      out[n].targets = candidates.filter((c) => c.type === r.resourceType && byCriteria.get(c.criteria)?.has(key)).map((c) => c.target);
    }
  }
  return out;
}

/** The targets of one event (see fanOutBatch). */
export async function fanOut(svc: JobServices, e: ChangeEvent & { content?: string | null }): Promise<Target[]> {
  return (await fanOutBatch(svc, [e]))[0].targets;
}

export function botSettings(svc: JobServices): BotSettings {
  return { reminderLeadTimesMs: svc.config.reminderLeadTimesMs, clinicTimeZone: svc.config.clinicTimeZone };
}

async function runBot(svc: JobServices, bot: Bot, e: ChangeEvent, resource: Resource): Promise<void> {
  const event = { resource, now: svc.clock(), settings: botSettings(svc) };
  // First a read-only run outside any transaction: when the bot has nothing to write (the common
  // case), that is all. Its first write attempt ends this run (see readOnlyClient).
  const dry = readOnlyClient(bot, svc.db, svc.config.referentialIntegrity);
  try {
    await bot.handler(event, dry.client);
  } catch (err) {
    if (!dry.wrote()) throw err;
  }
  if (!dry.wrote()) return;
  // The bot's writes and the idempotency row commit together: a retry never repeats them.
  await once(svc.db, eventKey(e), targetKey({ kind: 'bot', name: bot.name }), async (tx) => {
    const client = repositoryClient(bot, svc.db, tx, svc.config.referentialIntegrity);
    await bot.handler(event, client);
  });
}

/**
 * Does one target's work for an event. `resource` is the event's version when the caller has it
 * (read with the claim); otherwise it is loaded.
 */
export async function deliver(svc: JobServices, e: ChangeEvent, target: Target, resource?: Resource): Promise<void> {
  if (target.kind === 'platform') {
    const handler = PLATFORM.find((p) => p.name === target.name);
    if (handler) await handler.run(svc, e);
    return;
  }
  resource ??= await loadVersion(svc, e);
  if (!resource) return;
  if (target.kind === 'subscription') return deliverToSubscription(svc, target.name, e, resource);
  const bot = bots.find((b) => b.name === target.name);
  if (!bot) {
    log.warn('event for an unknown bot dropped', { bot: target.name });
    return;
  }
  await runBot(svc, bot, e, resource);
}

/** Runs every bot on schedule `name`; their createIfNoneExist calls keep reruns harmless. */
export async function runSchedule(svc: JobServices, name: 'reminders'): Promise<void> {
  for (const bot of bots) {
    if (!('schedule' in bot.trigger) || bot.trigger.schedule !== name) continue;
    await svc.db.transaction(async (tx) => {
      await bot.handler({ now: svc.clock(), settings: botSettings(svc) }, repositoryClient(bot, svc.db, tx, svc.config.referentialIntegrity));
    });
  }
}
