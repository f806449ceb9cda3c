/** What job handlers work with, built once per process (server or worker). */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { createEmailSender, type EmailSender } from '../notify/email.ts';
import { createSmsSender, type SmsSender } from '../notify/twilio.ts';
import type { Broadcaster } from '../subscriptions/broadcast.ts';

export interface JobServices {
  db: Database;
  config: Config;
  email: EmailSender;
  /** Undefined without TWILIO_* settings: SMS are recorded and logged only. */
  sms: SmsSender | undefined;
  /** Carries websocket notifications to the server process holding the sockets. */
  broadcaster: Broadcaster;
  /** The current time; tests move it to make reminders due. */
  clock: () => Date;
}

export function createJobServices(
  config: Config,
  db: Database,
  broadcaster: Broadcaster,
  overrides: Partial<Pick<JobServices, 'email' | 'sms' | 'clock'>> = {},
): JobServices {
  return {
    db,
    config,
    broadcaster,
    email: overrides.email ?? createEmailSender(config),
    sms: 'sms' in overrides ? overrides.sms : createSmsSender(config.twilio),
    clock: overrides.clock ?? (() => new Date()),
  };
}
