/**
 * The `schedule` queue: BullMQ job schedulers produce one job per tick (one per tick however many
 * workers run), e.g. the reminder scan every REMINDER_SCAN_MS.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, workerOptions, type Queues } from './queues.ts';
import type { JobServices } from './services.ts';
import { runSchedule } from './targets.ts';

export async function upsertSchedulers(svc: JobServices, queues: Queues): Promise<void> {
  await queues.schedule.upsertJobScheduler('reminders', { every: svc.config.jobs.reminderScanMs }, { name: 'reminders', data: {}, opts: { attempts: 1 } });
}

export function startScheduleWorker(svc: JobServices, connection: Redis): Worker {
  const worker = new Worker(
    QUEUE_NAMES.schedule,
    async (job: Job) => {
      if (job.name === 'reminders') await runSchedule(svc, 'reminders');
    },
    workerOptions(svc.config, connection, 1),
  );
  worker.on('error', () => undefined);
  return worker;
}
