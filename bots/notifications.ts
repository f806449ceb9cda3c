/**
 * In-app notifications as Communications to the patient (status completed, category
 * `notification`), shown in the apps' feed (`Communication?recipient=Patient/…`): appointment
 * confirmed, appointment cancelled, report ready. Each at most once per resource and status.
 */
import type { Appointment, Communication, DiagnosticReport, Patient, Reference } from '@medplum/fhirtypes';
import { clinicTime, patientOf } from './sms.ts';
import { BOT_IDENTIFIER_SYSTEM, type Bot, type FhirClient } from './types.ts';

export const NOTIFICATION_CATEGORY = { system: 'http://clinic.example.org/fhir/CodeSystem/communication-category', code: 'notification' };

async function notify(client: FhirClient, key: string, patient: Reference<Patient>, about: string, text: string, now: Date): Promise<void> {
  await client.createIfNoneExist<Communication>(
    {
      resourceType: 'Communication',
      status: 'completed',
      category: [{ coding: [NOTIFICATION_CATEGORY] }],
      subject: patient,
      recipient: [patient],
      about: [{ reference: about }],
      payload: [{ contentString: text }],
      sent: now.toISOString(),
    },
    { system: BOT_IDENTIFIER_SYSTEM, value: key },
  );
}

export const appointmentNotifications: Bot = {
  name: 'appointment-notifications',
  description: 'Tells patients their appointment is confirmed or cancelled',
  scopes: ['system/Communication.c'],
  trigger: { criteria: 'Appointment?status=booked,cancelled' },
  async handler(event, client) {
    const appt = event.resource as Appointment;
    const patient = patientOf(appt.participant);
    if (!patient?.reference) return;
    const when = appt.start ? ` on ${clinicTime(appt.start, event.settings.clinicTimeZone)}` : '';
    const text = appt.status === 'booked' ? `Your appointment${when} is confirmed.` : `Your appointment${when} has been cancelled.`;
    await notify(client, `appointment-${appt.status}|Appointment/${appt.id}|${appt.start ?? ''}`, patient, `Appointment/${appt.id}`, text, event.now);
  },
};

export const reportReady: Bot = {
  name: 'report-ready',
  description: 'Tells patients a report of theirs is ready',
  scopes: ['system/Communication.c'],
  trigger: { criteria: 'DiagnosticReport?status=final,amended,corrected' },
  async handler(event, client) {
    const report = event.resource as DiagnosticReport;
    const patient = report.subject?.reference?.startsWith('Patient/') ? (report.subject as Reference<Patient>) : undefined;
    if (!patient) return;
    const name = report.code?.text ?? report.code?.coding?.[0]?.display ?? 'report';
    await notify(client, `report-ready|DiagnosticReport/${report.id}`, patient, `DiagnosticReport/${report.id}`, `Your ${name} is ready to view.`, event.now);
  },
};
