/**
 * Delivery of one event to one Subscription (R4 channels `rest-hook` and `websocket`).
 * rest-hook: POST to the endpoint with the channel's headers, the resource as body when
 * `channel.payload` is set (else an empty body), `X-Event-Id` (stable per event, for receivers
 * to drop duplicates), and, when the Subscription carries the secret extension, an
 * `X-Signature: sha256=<hex HMAC of the body>` header. A failed delivery throws (the job is
 * retried with backoff) and shows on the Subscription as status `error` with the reason;
 * the next success sets it `active` again.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import type { JobServices } from '../jobs/services.ts';
import { eventKey, type ChangeEvent } from '../jobs/events.ts';

export const SUBSCRIPTION_SECRET_URL = 'http://clinic.example.org/fhir/StructureDefinition/subscription-secret';
const TIMEOUT_MS = 10_000;
/** How long a worker reuses a Subscription it read (a change reaches deliveries within this). */
const SUBSCRIPTION_CACHE_MS = 1000;

// Keep-alive connections to hook endpoints: one TCP (and TLS) handshake per endpoint, not per event.
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };

/** POSTs `body` and resolves with the status code; rejects when the endpoint cannot be reached or times out. */
function post(endpoint: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(endpoint);
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, {
      method: 'POST', agent: secure ? agents.https : agents.http, timeout: TIMEOUT_MS,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    }, (res) => {
      res.resume(); // the answer's body is not used
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const cache = new Map<string, { sub: Subscription | undefined; at: number }>();
/** Subscriptions this process saw fail: its next success re-reads and clears the error. */
const failedHere = new Set<string>();

async function subscriptionOf(svc: JobServices, id: string): Promise<Subscription | undefined> {
  const hit = cache.get(id);
  if (hit && Date.now() - hit.at < SUBSCRIPTION_CACHE_MS) return hit.sub;
  const { rows } = await svc.db.query<{ content: string }>(
    `SELECT content FROM resource WHERE type = 'Subscription' AND id = $1 AND NOT deleted`, [id], 'jobs_subscription_read');
  const sub = rows[0] ? (JSON.parse(rows[0].content) as Subscription) : undefined;
  if (cache.size > 10_000) cache.clear();
  cache.set(id, { sub, at: Date.now() });
  return sub;
}

export function signatureOf(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

/** Sets status/error on the Subscription when they change (so healthy deliveries write nothing). */
export async function setSubscriptionStatus(svc: JobServices, id: string, status: 'active' | 'error', error?: string): Promise<void> {
  const repo = new FhirRepository(systemContext(), svc.db, { referentialIntegrity: false });
  cache.delete(id);
  await repo.withTransaction(async (tx) => {
    const current = await tx.readResource<Subscription>('Subscription', id).catch(() => undefined);
    if (!current || current.status === 'off' || (current.status === status && (current.error ?? undefined) === error)) return;
    const { error: _old, ...rest } = current;
    await tx.update({ ...rest, status, ...(error ? { error } : {}) } as Resource);
  });
}

export async function deliverToSubscription(svc: JobServices, subscriptionId: string, event: ChangeEvent, resource: Resource): Promise<void> {
  const sub = await subscriptionOf(svc, subscriptionId);
  if (!sub || sub.status === 'off') return;
  const key = eventKey(event);
  if (sub.channel.type === 'websocket') {
    await svc.broadcaster.publish({ subscriptionId, focus: key, eventKey: key });
    return;
  }
  if (sub.channel.type !== 'rest-hook' || !sub.channel.endpoint) {
    await setSubscriptionStatus(svc, subscriptionId, 'error', `Channel ${sub.channel.type} is not supported`);
    return;
  }
  const body = sub.channel.payload ? JSON.stringify(resource) : '';
  const headers: Record<string, string> = { 'x-event-id': key };
  if (body) headers['content-type'] = sub.channel.payload === 'application/json' ? 'application/json' : 'application/fhir+json';
  for (const h of sub.channel.header ?? []) {
    const colon = h.indexOf(':');
    if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const secret = sub.extension?.find((e) => e.url === SUBSCRIPTION_SECRET_URL)?.valueString;
  if (secret) headers['x-signature'] = signatureOf(secret, body);
  let failure: string | undefined;
  try {
    const status = await post(sub.channel.endpoint, headers, body);
    if (status < 200 || status >= 300) failure = `Endpoint answered ${status}`;
  } catch (err) {
    failure = `Endpoint unreachable: ${(err as Error).message}`;
  }
  if (failure) {
    failedHere.add(subscriptionId);
    await setSubscriptionStatus(svc, subscriptionId, 'error', `${failure} (${new Date().toISOString()}); retrying`);
    throw new Error(failure);
  }
  if (sub.status === 'error' || failedHere.has(subscriptionId)) {
    failedHere.delete(subscriptionId);
    await setSubscriptionStatus(svc, subscriptionId, 'active');
  }
}
