/**
 * R4 Subscription lifecycle: a client creates a Subscription as `requested`; the server checks
 * its criteria and channel and makes it `active`, or `error` with the reason in `error`.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import type { JobServices } from '../jobs/services.ts';
import { parseCriteria } from './matcher.ts';

export const ACTIVATE_CRITERIA = 'Subscription?status=requested';

function problemOf(sub: Subscription): string | undefined {
  try {
    parseCriteria(sub.criteria);
  } catch (err) {
    return `Invalid criteria: ${(err as { outcome?: { issue?: { details?: { text?: string } }[] } }).outcome?.issue?.[0]?.details?.text ?? (err as Error).message}`;
  }
  if (sub.channel?.type === 'rest-hook') {
    if (!sub.channel.endpoint || !/^https?:\/\//.test(sub.channel.endpoint)) return 'A rest-hook channel needs an http(s) endpoint';
    return undefined;
  }
  if (sub.channel?.type === 'websocket') return undefined;
  return `Channel type ${sub.channel?.type} is not supported (rest-hook, websocket)`;
}

export async function activateSubscription(svc: JobServices, id: string): Promise<void> {
  const repo = new FhirRepository(systemContext(), svc.db, { referentialIntegrity: false });
  await repo.withTransaction(async (tx) => {
    const sub = await tx.readResource<Subscription>('Subscription', id).catch(() => undefined);
    if (!sub || sub.status !== 'requested') return;
    const problem = problemOf(sub);
    const { error: _old, ...rest } = sub;
    await tx.update({ ...rest, status: problem ? 'error' : 'active', ...(problem ? { error: problem } : {}) } as Resource);
  });
}
