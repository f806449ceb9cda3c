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
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import type { JobServices } from '../jobs/services.ts';
import { eventKey, type ChangeEvent } from '../jobs/events.ts';

export const SUBSCRIPTION_SECRET_URL = 'http://clinic.example.org/fhir/StructureDefinition/subscription-secret';
const TIMEOUT_MS = 10_000;

export function signatureOf(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

/** Sets status/error on the Subscription when they change (so healthy deliveries write nothing). */
export async function setSubscriptionStatus(svc: JobServices, id: string, status: 'active' | 'error', error?: string): Promise<void> {
  const repo = new FhirRepository(systemContext(), svc.db, { referentialIntegrity: false });
  await repo.withTransaction(async (tx) => {
    const current = await tx.readResource<Subscription>('Subscription', id).catch(() => undefined);
    if (!current || current.status === 'off' || (current.status === status && (current.error ?? undefined) === error)) return;
    const { error: _old, ...rest } = current;
    await tx.update({ ...rest, status, ...(error ? { error } : {}) } as Resource);
  });
}

export async function deliverToSubscription(svc: JobServices, subscriptionId: string, event: ChangeEvent, resource: Resource): Promise<void> {
  const repo = new FhirRepository(systemContext(), svc.db, { referentialIntegrity: false });
  const sub = await repo.readResource<Subscription>('Subscription', subscriptionId).catch(() => undefined);
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
    const res = await fetch(sub.channel.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) failure = `Endpoint answered ${res.status}`;
  } catch (err) {
    failure = `Endpoint unreachable: ${(err as Error).message}`;
  }
  if (failure) {
    await setSubscriptionStatus(svc, subscriptionId, 'error', `${failure} (${new Date().toISOString()}); retrying`);
    throw new Error(failure);
  }
  if (sub.status === 'error') await setSubscriptionStatus(svc, subscriptionId, 'active');
}
