/**
 * The waiting-room queue on the day. The queue of a practitioner is their appointments of that
 * clinic day whose patients have arrived (status `arrived` or `checked-in`), in order of
 * appointment time. Whenever it changes, the patient at its head is texted "you're next" (once),
 * and a patient who just checked in further back is texted their position (once).
 */
import type { Appointment, Patient, Reference } from '@medplum/fhirtypes';
import { patientOf, queueSms, smsAllowed } from './sms.ts';
import { clinicDay } from './time.ts';
import type { Bot, FhirClient } from './types.ts';

const WAITING = new Set(['arrived', 'checked-in']);

function providerOf(appt: Appointment): string | undefined {
  const refs = appt.participant?.map((p) => p.actor?.reference).filter((r): r is string => !!r) ?? [];
  return refs.find((r) => r.startsWith('PractitionerRole/')) ?? refs.find((r) => r.startsWith('Practitioner/'));
}

async function text(client: FhirClient, patientRef: Reference<Patient>, key: string, body: string, appt: Appointment, now: Date): Promise<void> {
  const patient = await client.read<Patient>('Patient', (patientRef.reference as string).slice('Patient/'.length));
  if (!smsAllowed(patient)) return;
  await queueSms(client, { key, patient: patientRef, text: body, about: [{ reference: `Appointment/${appt.id}` }], sender: 'queue-next', now });
}

export const queueNext: Bot = {
  name: 'queue-next',
  description: "Texts the patient at the head of a practitioner's waiting queue that they are next",
  scopes: ['system/Appointment.rs', 'system/Patient.r', 'system/Communication.c'],
  trigger: { criteria: 'Appointment?status=arrived,checked-in,fulfilled,noshow,cancelled' },
  async handler(event, client) {
    const changed = event.resource as Appointment;
    const provider = providerOf(changed);
    if (!provider || !changed.start) return;
    const day = clinicDay(changed.start, event.settings.clinicTimeZone);
    const sameDay = await client.search<Appointment>('Appointment', {
      actor: provider,
      date: [`ge${day.start}`, `lt${day.end}`],
      _count: '1000',
    });
    const waiting = sameDay
      .filter((a) => WAITING.has(a.status) && a.start)
      .sort((a, b) => Date.parse(a.start as string) - Date.parse(b.start as string) || (a.id as string).localeCompare(b.id as string));
    const head = waiting[0];
    const headPatient = head && patientOf(head.participant);
    if (head && headPatient?.reference) {
      await text(client, headPatient, `queue-next|Appointment/${head.id}`, "You're next! Please make your way to reception.", head, event.now);
    }
    const position = waiting.findIndex((a) => a.id === changed.id) + 1;
    const changedPatient = patientOf(changed.participant);
    if (position > 1 && changedPatient?.reference) {
      await text(client, changedPatient, `queue-position|Appointment/${changed.id}`,
        `You're checked in. You are number ${position} in the queue; we will text you when you're next.`, changed, event.now);
    }
  },
};
