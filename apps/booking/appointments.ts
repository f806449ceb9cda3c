/**
 * The patient's own appointments: booking a Slot (CONTRACT "Booking": status booked, the slot,
 * its start/end, participants Patient + PractitionerRole + Practitioner + Location), listing them
 * with the people and places they name, and cancelling (status → cancelled; the server frees the
 * slot). The server enforces every rule; refusals arrive as thrown OperationOutcomeErrors.
 */
import type { MedplumClient } from '@medplum/core';
import type { Appointment, Location, Practitioner, PractitionerRole, Slot } from '@medplum/fhirtypes';
import { indexBundle, type Provider } from './directory.ts';

/** Appointment.appointmentType code system of the clinic (server/src/scheduling/codes.ts). */
const VISIT_TYPE_SYSTEM = 'urn:clinic:visit-type';
/** Where the server puts a video visit's room (R5 virtualService as an R4 extension). */
const VIRTUAL_SERVICE_URL = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService';

export interface BookingRequest {
  patient: string; // "Patient/123"
  provider: Provider;
  slot: Slot;
  reason: string;
  video: boolean;
}

export function bookSlot(medplum: MedplumClient, req: BookingRequest): Promise<Appointment> {
  const { role, practitioner, location } = req.provider;
  const actors = [
    req.patient,
    `PractitionerRole/${role.id}`,
    practitioner ? `Practitioner/${practitioner.id}` : role.practitioner?.reference,
    location ? `Location/${location.id}` : role.location?.[0]?.reference,
  ].filter((ref): ref is string => !!ref);
  const reason = req.reason.trim();
  return medplum.createResource<Appointment>({
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${req.slot.id}` }],
    start: req.slot.start,
    end: req.slot.end,
    participant: actors.map((reference) => ({ actor: { reference }, status: 'accepted' })),
    ...(reason ? { description: reason, reasonCode: [{ text: reason }] } : {}),
    ...(req.video ? { appointmentType: { coding: [{ system: VISIT_TYPE_SYSTEM, code: 'video', display: 'Video consultation' }] } } : {}),
  });
}

/** An appointment with the provider and centre it names, for display. */
export interface AppointmentView {
  appointment: Appointment;
  practitioner?: Practitioner;
  role?: PractitionerRole;
  location?: Location;
}

/** All of the patient's appointments, newest first, with their participants included. */
export async function myAppointments(medplum: MedplumClient, patient: string): Promise<AppointmentView[]> {
  const bundle = await medplum.search(
    'Appointment',
    new URLSearchParams([['patient', patient], ['_sort', '-date'], ['_count', '100'], ['_include', 'Appointment:actor']]),
  );
  const byRef = indexBundle(bundle);
  const actorOf = <T>(a: Appointment, type: string) => {
    const ref = a.participant?.map((p) => p.actor?.reference).find((r) => r?.startsWith(`${type}/`));
    return ref ? (byRef.get(ref) as T | undefined) : undefined;
  };
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === 'Appointment')
    .map((e) => {
      const appointment = e.resource as Appointment;
      const role = actorOf<PractitionerRole>(appointment, 'PractitionerRole');
      const practitioner = actorOf<Practitioner>(appointment, 'Practitioner')
        ?? (role?.practitioner?.reference ? (byRef.get(role.practitioner.reference) as Practitioner | undefined) : undefined);
      return { appointment, role, practitioner, location: actorOf<Location>(appointment, 'Location') };
    });
}

export function cancelAppointment(medplum: MedplumClient, id: string): Promise<Appointment> {
  return medplum.patchResource('Appointment', id, [{ op: 'replace', path: '/status', value: 'cancelled' }]);
}

/** The video room's address, when the server gave the appointment one. */
export function videoLink(a: Appointment): string | undefined {
  const service = a.extension?.find((e) => e.url === VIRTUAL_SERVICE_URL);
  return service?.extension?.find((e) => e.url === 'addressUrl')?.valueUrl;
}

/** Whether the patient may still cancel it: it holds time and has not happened yet. */
export function isCancellable(a: Appointment): boolean {
  const open = ['proposed', 'pending', 'booked'].includes(a.status);
  return open && !!a.start && Date.parse(a.start) > Date.now();
}
