/**
 * Starts background work for a process and stops it in reverse order.
 *   no REDIS_URL          → in-process: the outbox dispatcher runs the handlers itself, and a
 *                           timer runs the reminder scan (embedded mode)
 *   REDIS_URL, server     → dispatcher hands events to BullMQ; with WORKERS=inline the server
 *                           also runs the workers
 *   REDIS_URL, worker     → dispatcher + workers (`npm run worker`, as many as wanted)
 */
import type { Worker } from 'bullmq';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { log } from '../log.ts';
import { createBroadcaster, type Broadcaster } from '../subscriptions/broadcast.ts';
import { Dispatcher } from './dispatcher.ts';
import { inlineSink } from './inline.ts';
import { startDeliveriesWorker } from './queue-deliveries.ts';
import { bullmqSink } from './queue-events.ts';
import { startScheduleWorker, upsertSchedulers } from './queue-schedule.ts';
import { openQueues, redisConnection } from './queues.ts';
import { createJobServices, type JobServices } from './services.ts';
import { runSchedule } from './targets.ts';

export interface JobsRuntime {
  services: JobServices;
  broadcaster: Broadcaster;
  /** Checks the outbox now (tests; NOTIFY does this in production). */
  kick(): void;
  stop(): Promise<void>;
}

export interface StartJobsOptions {
  role: 'server' | 'worker';
  services?: Partial<Pick<JobServices, 'email' | 'sms' | 'clock'>>;
}

export async function startJobs(config: Config, db: Database, options: StartJobsOptions): Promise<JobsRuntime> {
  const broadcaster = createBroadcaster(config.redisUrl, config.jobs.queuePrefix);
  const services = createJobServices(config, db, broadcaster, options.services);
  const stops: (() => Promise<void>)[] = [() => broadcaster.close()];
  let dispatcher: Dispatcher;

  if (!config.redisUrl) {
    dispatcher = new Dispatcher(db, { sink: inlineSink(services), batchSize: 50 });
    const timer = setInterval(() => {
      runSchedule(services, 'reminders').catch((err) => log.error('reminder scan failed', { error: (err as Error).message }));
    }, config.jobs.reminderScanMs);
    timer.unref();
    stops.push(async () => clearInterval(timer));
  } else {
    const connection = redisConnection(config.redisUrl);
    const queues = openQueues(config, connection);
    stops.push(async () => {
      await queues.close();
      connection.disconnect();
    });
    // The BullMQ sink holds claimed events only while it fans them out and adds their jobs (well
    // under a second), so a dead dispatcher's events come back after a short lease.
    dispatcher = new Dispatcher(db, { sink: bullmqSink(services, queues), leaseMs: 15_000 });
    if (options.role === 'worker' || config.jobs.inlineWorkers) {
      const workerConnection = redisConnection(config.redisUrl);
      await upsertSchedulers(services, queues);
      const workers: Worker[] = [
        startDeliveriesWorker(services, workerConnection),
        startScheduleWorker(services, workerConnection),
      ];
      stops.push(async () => {
        await Promise.all(workers.map((w) => w.close()));
        workerConnection.disconnect();
      });
    }
  }
  await dispatcher.start();
  stops.push(() => dispatcher.stop());
  log.info('background jobs started', { mode: config.redisUrl ? 'bullmq' : 'in-process', role: options.role });
  return {
    services,
    broadcaster,
    kick: () => dispatcher.kick(),
    async stop() {
      // Reverse order of start: dispatcher first, then workers and queues, then the broadcaster.
      for (const stop of stops.reverse()) await stop();
    },
  };
}
