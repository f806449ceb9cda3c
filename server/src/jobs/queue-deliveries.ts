/** The `deliveries` queue: one job per (event, target) — a Subscription, a bot or a platform handler. */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChangeEvent, Target } from './events.ts';
import { deadLetterJob, QUEUE_NAMES, workerOptions } from './queues.ts';
import type { JobServices } from './services.ts';
import { deliver } from './targets.ts';

export interface DeliveryJob {
  event: ChangeEvent;
  target: Target;
}

export function startDeliveriesWorker(svc: JobServices, connection: Redis): Worker {
  const worker = new Worker<DeliveryJob>(
    QUEUE_NAMES.deliveries,
    async (job: Job<DeliveryJob>) => deliver(svc, job.data.event, job.data.target),
    workerOptions(svc.config, connection, 16),
  );
  worker.on('failed', (job, err) => {
    if (job) void deadLetterJob(svc.db, QUEUE_NAMES.deliveries, job, err);
  });
  worker.on('error', () => undefined);
  return worker;
}
