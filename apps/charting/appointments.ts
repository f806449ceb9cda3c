/**
 * The clinician's appointments. Patients book a PractitionerRole (a GP at a centre) or the
 * Practitioner directly, so we ask for both; `_include=Appointment:patient` brings the patients
 * (only those the server lets this clinician see).
 */
import type { MedplumClient } from '@medplum/core';
import type { Appointment, BundleEntry, Patient, PractitionerRole, Resource } from '@medplum/fhirtypes';

export interface AppointmentRow {
  appointment: Appointment;
  patientId?: string;
  patient?: Patient;
}

/** The `actor` references that mean "me": my Practitioner and each of my PractitionerRoles. */
export async function myActorRefs(medplum: MedplumClient, practitioner: string): Promise<string[]> {
  const roles = await medplum.searchResources('PractitionerRole', { practitioner, _count: '100' });
  return [practitioner, ...roles.map((r: PractitionerRole) => `PractitionerRole/${r.id}`)];
}

/** My appointments on `day` (YYYY-MM-DD), or from that day on, earliest first, with their patients. */
export async function myAppointments(medplum: MedplumClient, practitioner: string, day: string, onlyThatDay: boolean): Promise<AppointmentRow[]> {
  const actors = await myActorRefs(medplum, practitioner);
  // `date=2026-11-23` is the whole day (FHIR date precision); `ge` is that day and after.
  const bundle = await medplum.search('Appointment', {
    actor: actors.join(','),
    date: onlyThatDay ? day : `ge${day}`,
    _sort: 'date',
    _include: 'Appointment:patient',
    _count: '100',
  });
  // The bundle mixes matches (Appointments) and includes (Patients).
  const entries = (bundle.entry ?? []) as BundleEntry<Resource>[];
  const patients = new Map<string, Patient>();
  for (const e of entries) {
    if (e.resource?.resourceType === 'Patient') patients.set(e.resource.id as string, e.resource as Patient);
  }
  return entries
    .filter((e) => e.resource?.resourceType === 'Appointment')
    .map((e) => {
      const appointment = e.resource as Appointment;
      const ref = appointment.participant?.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
      const patientId = ref?.slice('Patient/'.length);
      return { appointment, patientId, patient: patientId ? patients.get(patientId) : undefined };
    });
}

/** Today's date in the browser's time zone, as YYYY-MM-DD. */
export function today(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
