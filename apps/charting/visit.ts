/**
 * The visit a chart was opened for (from an appointment). Notes, diagnoses and prescriptions
 * written then belong to the visit's Encounter: the one already made for the appointment (at
 * check-in, say) or, when there is none yet, one this clinician starts on the first write.
 */
import type { MedplumClient } from '@medplum/core';
import type { Encounter, Reference } from '@medplum/fhirtypes';

export interface Visit {
  appointmentId: string;
  /** The visit's Encounter, found or started once (and retried after a failure). */
  encounter(): Promise<Reference<Encounter>>;
}

async function findOrStartEncounter(medplum: MedplumClient, patientId: string, clinician: string, appointmentId: string): Promise<Reference<Encounter>> {
  const appointment = `Appointment/${appointmentId}`;
  const existing = await medplum.searchOne('Encounter', { appointment, patient: `Patient/${patientId}` });
  if (existing) return { reference: `Encounter/${existing.id}` };
  const started = await medplum.createResource<Encounter>({
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject: { reference: `Patient/${patientId}` },
    participant: [{ individual: { reference: clinician } }],
    appointment: [{ reference: appointment }],
    period: { start: new Date().toISOString() },
  });
  return { reference: `Encounter/${started.id}` };
}

export function visitOf(medplum: MedplumClient, patientId: string, clinician: string, appointmentId: string): Visit {
  let pending: Promise<Reference<Encounter>> | undefined;
  return {
    appointmentId,
    encounter() {
      pending ??= findOrStartEncounter(medplum, patientId, clinician, appointmentId).catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
  };
}

/** The Encounter reference for a new entry, when the chart is open for a visit. */
export async function encounterOf(visit: Visit | undefined): Promise<Reference<Encounter> | undefined> {
  return visit ? visit.encounter() : undefined;
}
