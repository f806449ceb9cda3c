/**
 * The `deliveries` queue. Per event: one job for the platform handlers and bots that matched
 * (database work, each idempotent, so a retry after one of them failed repeats nothing that
 * took effect), and one job per matching Subscription.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Resource } from '@medplum/fhirtypes';
import { targetKey, type ChangeEvent, type Target } from './events.ts';
import { deadLetterJob, QUEUE_NAMES, workerOptions } from './queues.ts';
import type { JobServices } from './services.ts';
import { deliver } from './targets.ts';
import { eventKey } from './events.ts';
import { setSubscriptionStatus } from '../subscriptions/deliver.ts';
import { log } from '../log.ts';

/** After the last attempt: a Subscription shows that this event was given up (and dead-lettered). */
export async function markGivenUp(svc: JobServices, job: Pick<DeliveryJob, 'event' | 'targets'>, attempts: number, error: string): Promise<void> {
  for (const t of job.targets.filter((t) => t.kind === 'subscription')) {
    await setSubscriptionStatus(svc, t.name, 'error', `Gave up delivering ${eventKey(job.event)} after ${attempts} attempts (kept in the dead-letter list): ${error}`.slice(0, 1000))
      .catch((e) => log.error('could not record a given-up delivery', { error: (e as Error).message }));
  }
}

export interface DeliveryJob {
  event: ChangeEvent;
  targets: Target[];
  /** The event's version as stored (JSON), carried so the worker need not load it again. */
  content?: string;
}

/** Jobs a worker runs at once (they mostly wait on the database or an endpoint). */
export const DELIVERY_CONCURRENCY = 32;

export function startDeliveriesWorker(svc: JobServices, connection: Redis): Worker {
  const worker = new Worker<DeliveryJob>(
    QUEUE_NAMES.deliveries,
    async (job: Job<DeliveryJob>) => {
      const resource = job.data.content ? (JSON.parse(job.data.content) as Resource) : undefined;
      const errors: string[] = [];
      for (const target of job.data.targets) {
        try {
          await deliver(svc, job.data.event, target, resource);
        } catch (err) {
          errors.push(`${targetKey(target)}: ${(err as Error).message}`);
        }
      }
      if (errors.length) throw new Error(errors.join('; '));
    },
    workerOptions(svc.config, connection, DELIVERY_CONCURRENCY),
  );
  worker.on('failed', (job, err) => {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    void deadLetterJob(svc.db, QUEUE_NAMES.deliveries, job, err).then(() => markGivenUp(svc, job.data, job.attemptsMade, err.message));
  });
  worker.on('error', () => undefined);
  return worker;
}
