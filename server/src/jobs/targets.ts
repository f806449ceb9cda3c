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
import { matchAll, parseCriteria } from '../subscriptions/matcher.ts';
import { repositoryClient } from './bot-client.ts';
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

/** The stored version an event names (undefined for a deletion). */
export async function loadVersion(svc: JobServices, e: ChangeEvent): Promise<Resource | undefined> {
  const { rows } = await svc.db.query<{ content: string | null }>(
    'SELECT content FROM resource_history WHERE type = $1 AND id = $2 AND version = $3',
    [e.type, e.id, e.version],
    'jobs_load_version',
  );
  return rows[0]?.content ? (JSON.parse(rows[0].content) as Resource) : undefined;
}

/** Subscriptions that deliver (active, or in error and still retrying) for a resource type. */
async function subscriptionsFor(svc: JobServices, type: string): Promise<{ id: string; criteria: string }[]> {
  const { rows } = await svc.db.query<{ content: string }>(
    `SELECT content FROM resource WHERE type = 'Subscription' AND NOT deleted`,
    [],
    'jobs_subscriptions',
  );
  return rows
    .map((r) => JSON.parse(r.content) as Subscription)
    .filter((s) => (s.status === 'active' || s.status === 'error') && s.criteria?.split('?')[0].trim() === type)
    .map((s) => ({ id: s.id as string, criteria: s.criteria }));
}

export async function fanOut(svc: JobServices, e: ChangeEvent): Promise<Target[]> {
  const resource = await loadVersion(svc, e);
  if (!resource) return []; // deletions notify nobody (R4 criteria match resources, not their absence)
  const candidates: { target: Target; criteria: string }[] = [
    ...PLATFORM.map((p) => ({ target: { kind: 'platform' as const, name: p.name }, criteria: p.criteria })),
    ...bots.flatMap((b) => ('criteria' in b.trigger ? [{ target: { kind: 'bot' as const, name: b.name }, criteria: b.trigger.criteria }] : [])),
    ...(await subscriptionsFor(svc, e.type)).map((s) => ({ target: { kind: 'subscription' as const, name: s.id }, criteria: s.criteria })),
  ].filter((c) => c.criteria.split('?')[0].trim() === e.type);
  const searches = candidates.map((c) => criteriaOf(c.criteria));
  const usable = candidates.filter((_, n) => searches[n]);
  const results = await matchAll(svc.db, resource, searches.filter((s): s is SearchRequest => !!s));
  return usable.filter((_, n) => results[n]).map((c) => c.target);
}

export function botSettings(svc: JobServices): BotSettings {
  return { reminderLeadTimesMs: svc.config.reminderLeadTimesMs, clinicTimeZone: svc.config.clinicTimeZone };
}

async function runBot(svc: JobServices, bot: Bot, e: ChangeEvent, resource: Resource): Promise<void> {
  // The bot's writes and the idempotency row commit together: a retry never repeats them.
  await once(svc.db, eventKey(e), targetKey({ kind: 'bot', name: bot.name }), async (tx) => {
    const client = repositoryClient(bot, svc.db, tx, svc.config.referentialIntegrity);
    await bot.handler({ resource, now: svc.clock(), settings: botSettings(svc) }, client);
  });
}

export async function deliver(svc: JobServices, e: ChangeEvent, target: Target): Promise<void> {
  if (target.kind === 'platform') {
    const handler = PLATFORM.find((p) => p.name === target.name);
    if (handler) await handler.run(svc, e);
    return;
  }
  const resource = await loadVersion(svc, e);
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
