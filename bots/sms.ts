/** Helpers shared by bots that text patients. */
import type { Communication, Patient, Reference } from '@medplum/fhirtypes';
import { BOT_IDENTIFIER_SYSTEM, SMS, SMS_OPT_OUT_URL, type FhirClient } from './types.ts';

/**
 * Whether the patient may be texted: a mobile (or any) phone number and no opt-out. Opt-out is
 * the Patient extension SMS_OPT_OUT_URL with valueBoolean true.
 */
export function smsAllowed(patient: Patient): boolean {
  if (patient.extension?.some((e) => e.url === SMS_OPT_OUT_URL && e.valueBoolean === true)) return false;
  return patient.telecom?.some((t) => t.system === 'sms' || t.system === 'phone') ?? false;
}

/** Queues one SMS to a patient as a Communication in preparation, at most once per `key`. */
export async function queueSms(
  client: FhirClient,
  options: { key: string; patient: Reference<Patient>; text: string; about?: Reference[]; sender: string; now: Date },
): Promise<Communication | undefined> {
  return client.createIfNoneExist<Communication>(
    {
      resourceType: 'Communication',
      status: 'preparation',
      medium: [{ coding: [SMS] }],
      subject: options.patient,
      recipient: [options.patient],
      about: options.about,
      sender: { display: options.sender },
      payload: [{ contentString: options.text }],
      sent: options.now.toISOString(),
    },
    { system: BOT_IDENTIFIER_SYSTEM, value: options.key },
  );
}

/** "Tue 3 Mar, 10:30" in the clinic's time zone. */
export function clinicTime(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-AU', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(instant));
}

/** The Patient participant of an appointment. */
export function patientOf(participants: { actor?: Reference }[] | undefined): Reference<Patient> | undefined {
  return participants?.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor as Reference<Patient> | undefined;
}
