/**
 * Data for the booking app's browser tests: one medical centre in a suburb, with a GP and a
 * cardiologist working every day 09:00–17:00 (so the server makes their Schedules and free
 * Slots), written as the platform; and what the server holds afterwards, read from its database.
 */
import type { Appointment, PractitionerRole, Slot } from '@medplum/fhirtypes';
import { createResource } from './auth-helpers.ts';
import { appointmentFor, EVERY_DAY, freeSlots, pastSlot, repoAs } from './sched-fixtures.ts';
import type { TestServer } from './server.ts';

export interface Centre {
  centreName: string;
  suburb: string;
  gpName: string;
  gpRole: string;
  specialistName: string;
  specialistRole: string;
}

export async function buildCentre(server: TestServer): Promise<Centre> {
  const centreName = 'Bondi Junction Medical Centre';
  const suburb = 'Bondi Junction';
  const org = await createResource(server, { resourceType: 'Organization', name: centreName, address: [{ city: suburb }] });
  const location = await createResource(server, {
    resourceType: 'Location', name: centreName, address: { city: suburb }, managingOrganization: { reference: `Organization/${org.id}` },
  });
  const provider = async (name: string, code: string, specialty?: string) => {
    const practitioner = await createResource(server, { resourceType: 'Practitioner', name: [{ text: name }] });
    const role = await createResource(server, {
      resourceType: 'PractitionerRole', active: true, practitioner: { reference: `Practitioner/${practitioner.id}` },
      organization: { reference: `Organization/${org.id}` }, location: [{ reference: `Location/${location.id}` }],
      code: [{ coding: [{ system: 'urn:clinic:provider-role', code }], text: code }],
      ...(specialty ? { specialty: [{ text: specialty }] } : {}),
      availableTime: [{ daysOfWeek: [...EVERY_DAY], availableStartTime: '09:00:00', availableEndTime: '17:00:00' }],
    });
    return role.id;
  };
  const gpName = 'Grace Whitfield';
  const specialistName = 'Omar Haddad';
  return {
    centreName, suburb, gpName, gpRole: await provider(gpName, 'gp'),
    specialistName, specialistRole: await provider(specialistName, 'specialist', 'Cardiology'),
  };
}

/** A free slot of a role that starts `days` days from now or later (so each test gets its own). */
export async function freeSlotAfter(server: TestServer, roleId: string, days: number): Promise<Slot> {
  const [slot] = await freeSlots(server.database.db, roleId, 1, Date.now() + days * 86_400_000);
  if (!slot) throw new Error(`no free slot of PractitionerRole/${roleId} ${days} days ahead`);
  return slot;
}

/**
 * A visit of the patient with a provider two days ago, attended (written by the platform, as the
 * clinic's staff would): a past Slot of the role's Schedule and a fulfilled Appointment naming
 * the patient, the role, its Practitioner and its Location.
 */
export async function pastVisit(server: TestServer, patient: string, roleId: string): Promise<Appointment> {
  const role = await stored<PractitionerRole>(server, 'PractitionerRole', roleId);
  const slot = await pastSlot(server.database.db, roleId);
  const actors = [`PractitionerRole/${roleId}`, role.practitioner?.reference, role.location?.[0]?.reference].filter((r): r is string => !!r);
  const visit = appointmentFor(slot, patient.split('/')[1], { status: 'fulfilled', description: 'Check-up' });
  visit.participant.push(...actors.map((reference) => ({ actor: { reference }, status: 'accepted' as const })));
  return (await repoAs(server.database.db).create(visit)).resource as Appointment;
}

/** The current version of a resource as the server stores it. */
export async function stored<T>(server: TestServer, type: string, id: string): Promise<T> {
  const { rows } = await server.database.db.query<{ content: string }>('SELECT content FROM resource WHERE type = $1 AND id = $2 AND NOT deleted', [type, id]);
  if (!rows[0]) throw new Error(`${type}/${id} is not stored`);
  return JSON.parse(rows[0].content) as T;
}

/** Every Appointment in a patient's compartment, as the server stores them. */
export async function appointmentsOf(server: TestServer, patient: string): Promise<Appointment[]> {
  const { rows } = await server.database.db.query<{ content: string }>(
    `SELECT content FROM resource WHERE type = 'Appointment' AND NOT deleted AND compartments @> ARRAY[$1]::text[]`,
    [patient],
  );
  return rows.map((r) => JSON.parse(r.content) as Appointment);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** What the app shows for a slot: its local day (the Day field's value) and its "HH:MM". */
export function localDayAndTime(iso: string): { day: string; time: string } {
  const d = new Date(iso);
  return { day: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time: `${pad(d.getHours())}:${pad(d.getMinutes())}` };
}
