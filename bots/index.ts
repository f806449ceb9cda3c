/** Every bot the workers run. Add a bot: write its file, then list it here. */
import { announcements } from './announcements.ts';
import { appointmentReminders } from './appointment-reminders.ts';
import { appointmentNotifications, reportReady } from './notifications.ts';
import { queueNext } from './queue-next.ts';
import { referralEmail } from './referral-email.ts';
import type { Bot } from './types.ts';

export const bots: Bot[] = [appointmentReminders, queueNext, referralEmail, appointmentNotifications, reportReady, announcements];
export type { Bot, BotEvent, FhirClient } from './types.ts';
