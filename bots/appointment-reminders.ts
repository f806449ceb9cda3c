/**
 * SMS reminders before booked appointments, at each REMINDER_LEAD_TIMES lead (default 24 h and
 * 2 h). Run on a schedule: every tick looks at booked appointments starting within the largest
 * lead time and, for each, sends the reminder of the shortest lead that is due (a reminder
 * whose time passed while a shorter one is also due is skipped, so nobody gets two at once).
 * Each (appointment, start, lead) is texted at most once; opted-out patients get nothing.
 */
import type { Appointment, Patient } from '@medplum/fhirtypes';
import { clinicTime, patientOf, queueSms, smsAllowed } from './sms.ts';
import type { Bot } from './types.ts';

function leadText(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

export const appointmentReminders: Bot = {
  name: 'appointment-reminders',
  description: 'Texts patients before their booked appointments',
  scopes: ['system/Appointment.rs', 'system/Patient.r', 'system/Communication.c'],
  trigger: { schedule: 'reminders' },
  async handler(event, client) {
    const now = event.now.getTime();
    const leads = event.settings.reminderLeadTimesMs;
    if (leads.length === 0) return;
    const until = new Date(now + Math.max(...leads)).toISOString();
    const appointments = await client.search<Appointment>('Appointment', {
      status: 'booked',
      date: [`gt${event.now.toISOString()}`, `le${until}`],
      _count: '1000',
    });
    for (const appt of appointments) {
      if (!appt.start) continue;
      const start = Date.parse(appt.start);
      const due = leads.filter((lead) => start - lead <= now && start > now);
      if (due.length === 0) continue;
      const lead = Math.min(...due);
      const patientRef = patientOf(appt.participant);
      if (!patientRef?.reference) continue;
      const patient = await client.read<Patient>('Patient', patientRef.reference.slice('Patient/'.length));
      if (!smsAllowed(patient)) continue;
      await queueSms(client, {
        key: `reminder|Appointment/${appt.id}|${appt.start}|${leadText(lead)}`,
        patient: patientRef,
        about: [{ reference: `Appointment/${appt.id}` }],
        sender: 'appointment-reminders',
        now: event.now,
        text: `Reminder: you have an appointment on ${clinicTime(appt.start, event.settings.clinicTimeZone)}${appt.description ? ` (${appt.description})` : ''}. Reply STOP to opt out.`,
      });
    }
  },
};
