/**
 * `loadDemoData(db)`: the demo network on an empty database. The people and centres go in through
 * the CSV import (seed/csv, so `npm run import -- seed/csv` afterwards changes nothing and the
 * demo logins work); the Schedules and Slots follow from the hours (scheduling hooks); then past
 * visits with notes (and diagnoses), upcoming bookings (some by video), GP referrals to
 * specialists (some already booked) and ratings are added in one transaction. Deterministic apart
 * from "today".
 */
import type { Appointment, Basic, Condition, DocumentReference, Encounter, HealthcareService, Location, PractitionerRole, Resource, ServiceRequest, Slot } from '@medplum/fhirtypes';
import type { Database } from '../server/src/db/database.ts';
import { systemContext } from '../server/src/context.ts';
import { FhirRepository } from '../server/src/fhir/repo/repository.ts';
import { runImport } from '../server/src/import/run.ts';
import { slotStarts } from '../server/src/scheduling/availability.ts';
import { VISIT_TYPE_SYSTEM } from '../server/src/scheduling/codes.ts';
import { RATING_CODE_SYSTEM, RATING_COMMENT_URL, RATING_PROFILE, RATING_SCORE_URL } from '../server/src/scheduling/ratings.ts';
import { schedulingSettings } from '../server/src/scheduling/settings.ts';
import { formatInZone } from '../server/src/scheduling/time.ts';
import { SERVICE_TYPES, SERVICE_TYPE_SYSTEM, demoServices, rng } from './generate.ts';
import { CSV_DIR } from './write-csv.ts';

const REASONS = ['I want to take a blood test', 'Persistent cough', 'Annual check-up', 'Back pain after gardening', 'Skin rash',
  'Follow-up on test results', 'Sprained ankle', 'Headaches', 'Vaccination', 'Repeat prescription', 'Knee pain when running', 'Feeling tired'];
const NOTES = ['Examined; no acute findings. Advised rest and fluids.', 'Bloods ordered: FBC, UEC, lipids.', 'BP 128/82. Continue current medication.',
  'Mild strain; physiotherapy recommended.', 'Rash consistent with contact dermatitis; topical steroid prescribed.', 'Referred for specialist opinion.'];
/** Common diagnoses of general practice (SNOMED CT), recorded at some visits for the managers' counts. */
const DIAGNOSES = [
  { code: '195662009', display: 'Acute viral pharyngitis' }, { code: '38341003', display: 'Hypertensive disorder' },
  { code: '279039007', display: 'Low back pain' }, { code: '40055000', display: 'Chronic sinusitis' },
  { code: '44054006', display: 'Diabetes mellitus type 2' }, { code: '195967001', display: 'Asthma' },
  { code: '40275004', display: 'Contact dermatitis' }, { code: '44465007', display: 'Sprain of ankle' },
];
const COMMENTS = ['Very thorough and kind.', 'Had to wait a while.', 'Explained everything clearly.', 'Friendly staff.', '', ''];
const DAY = 86_400_000;
const SLOT = 1_800_000;

export interface DemoCounts { services: number; appointments: number; referrals: number; notes: number; diagnoses: number; ratings: number }

export const SERVICE_IDENTIFIER_SYSTEM = 'urn:clinic:healthcare-service';
const CENTRE_SYSTEM = 'urn:clinic:centre';
const ROLE_SYSTEM = 'urn:clinic:practitioner-role';
const centreKey = (name: string) => name.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * One HealthcareService per centre and service type on offer there (seed/generate.ts
 * demoServices): provided by the centre's Organization at its Location, with the hours of the
 * providers who deliver it and, for specialist clinics, their specialties.
 */
function healthcareServices(locations: Location[], roles: PractitionerRole[]): HealthcareService[] {
  const location = new Map(locations.map((l) => [l.identifier?.find((i) => i.system === CENTRE_SYSTEM)?.value, l]));
  const role = new Map(roles.map((r) => [r.identifier?.find((i) => i.system === ROLE_SYSTEM)?.value, r]));
  return demoServices().map((svc) => {
    const type = SERVICE_TYPES.find((t) => t.code === svc.service_type)!;
    const loc = location.get(centreKey(svc.centre_name));
    if (!loc) throw new Error(`no Location for centre ${svc.centre_name}`);
    const hours = new Map<string, NonNullable<PractitionerRole['availableTime']>[number]>();
    for (const email of svc.providers) {
      for (const t of role.get(`${email}|${centreKey(svc.centre_name)}`)?.availableTime ?? []) hours.set(JSON.stringify(t), t);
    }
    return {
      resourceType: 'HealthcareService',
      identifier: [{ system: SERVICE_IDENTIFIER_SYSTEM, value: `${centreKey(svc.centre_name)}|${svc.service_type}` }],
      active: true,
      providedBy: { reference: loc.managingOrganization?.reference, display: svc.centre_name },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-category', code: type.category.code, display: type.category.display }] }],
      type: [{ coding: [{ system: SERVICE_TYPE_SYSTEM, code: type.code, display: type.name }], text: type.name }],
      specialty: svc.specialties.length ? svc.specialties.map((text) => ({ text })) : undefined,
      location: [{ reference: `Location/${loc.id}`, display: svc.centre_name }],
      name: svc.name,
      telecom: loc.telecom,
      availableTime: [...hours.keys()].sort().map((k) => hours.get(k)!),
    } as HealthcareService;
  });
}

export async function isEmptyDatabase(db: Database): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM resource) AS any');
  return !rows[0].any;
}

export async function loadDemoData(db: Database, now = Date.now()): Promise<DemoCounts> {
  const imported = await runImport(db, CSV_DIR);
  if (!imported.ok) throw new Error(`demo CSVs are invalid: ${imported.problems.map((p) => p.message).join('; ')}`);
  const rand = rng(7);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const tz = schedulingSettings().timeZone;
  const counts: DemoCounts = { services: 0, appointments: 0, referrals: 0, notes: 0, diagnoses: 0, ratings: 0 };
  const root = new FhirRepository(systemContext(), db, { referentialIntegrity: true });
  const all = async <T extends Resource>(type: string) =>
    (await db.query<{ content: string }>('SELECT content FROM resource WHERE type = $1 AND NOT deleted ORDER BY content', [type])).rows.map((r) => JSON.parse(r.content) as T);
  const patients = (await all<Resource>('Patient')).map((p) => p.id as string);
  const roles = await all<PractitionerRole>('PractitionerRole');
  const schedules = new Map((await db.query<{ id: string; content: string }>(`SELECT id, content FROM resource WHERE type = 'Schedule'`)).rows
    .map((r) => [JSON.parse(r.content).identifier?.[0]?.value as string, r.id]));
  const code = (r: PractitionerRole) => r.code?.[0]?.coding?.[0]?.code;
  const gps = roles.filter((r) => code(r) === 'gp');
  const specialists = roles.filter((r) => code(r) === 'specialist');
  const others = roles.filter((r) => code(r) !== 'specialist');
  const busy = new Set<string>(); // "Patient/x@t" and "role@t"
  const free = (patient: string, role: PractitionerRole, t: number) => !busy.has(`${patient}@${t}`) && !busy.has(`${role.id}@${t}`);
  const take = (patient: string, role: PractitionerRole, t: number) => busy.add(`${patient}@${t}`).add(`${role.id}@${t}`);
  const visited: { patient: string; role: PractitionerRole }[] = [];

  // Read before the transaction opens: the embedded database has one connection, so a query on
  // `db` inside the transaction would wait for it forever.
  const locations = await all<Location>('Location');
  await root.withTransaction(async (repo) => {
    // What each centre offers (before the ratings, so the services carry their centre's average).
    for (const svc of healthcareServices(locations, roles)) {
      await repo.create(svc);
      counts.services++;
    }
    const appointment = (role: PractitionerRole, slot: Slot, patient: string, status: Appointment['status'], extra: Partial<Appointment> = {}): Appointment => ({
      resourceType: 'Appointment', status, slot: [{ reference: `Slot/${slot.id}` }], start: slot.start, end: slot.end,
      description: pick(REASONS), reasonCode: [{ text: pick(REASONS) }],
      appointmentType: { coding: [{ system: VISIT_TYPE_SYSTEM, code: 'in-person' }] },
      participant: [
        { actor: { reference: `Patient/${patient}` }, status: 'accepted' },
        { actor: { reference: `PractitionerRole/${role.id}` }, status: 'accepted' },
        { actor: { reference: role.practitioner?.reference }, status: 'accepted' },
        { actor: { reference: role.location?.[0]?.reference }, status: 'accepted' },
      ],
      ...extra,
    });
    // Past visits (1–3 per patient in the last 60 days), each with a Slot of its own and a note.
    for (const patient of patients) {
      const visits = 1 + Math.floor(rand() * 3);
      for (let v = 0; v < visits; v++) {
        const role = rand() < 0.7 ? pick(gps) : pick(others);
        const dayStart = now - (1 + Math.floor(rand() * 60)) * DAY;
        const options = slotStarts(role, dayStart - (dayStart % DAY), dayStart - (dayStart % DAY) + DAY, tz).filter((t) => t < now - DAY && free(patient, role, t));
        if (!options.length) continue;
        const t = pick(options);
        take(patient, role, t);
        const slot = (await repo.create({ resourceType: 'Slot', schedule: { reference: `Schedule/${schedules.get(role.id as string)}` }, status: 'free', start: formatInZone(t, tz), end: formatInZone(t + SLOT, tz) } as Slot)).resource as Slot;
        const appt = (await repo.create(appointment(role, slot, patient, 'fulfilled'))).resource;
        counts.appointments++;
        visited.push({ patient, role });
        if (rand() < 0.6) {
          const note: DocumentReference = {
            resourceType: 'DocumentReference', status: 'current', subject: { reference: `Patient/${patient}` }, date: new Date(t + SLOT).toISOString(),
            type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] },
            author: [{ reference: role.practitioner?.reference }], description: 'Visit note',
            content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(pick(NOTES)).toString('base64') } }],
            context: { related: [{ reference: `Appointment/${appt.id}` }] },
          };
          await repo.create(note);
          counts.notes++;
          // Every second noted visit also records a diagnosis, on the visit's Encounter (no random
          // draw, so the rest of the demo data stays as it was).
          if (counts.notes % 2 === 0) {
            const encounter = (await repo.create({
              resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
              subject: { reference: `Patient/${patient}` }, participant: [{ individual: { reference: role.practitioner?.reference } }],
              appointment: [{ reference: `Appointment/${appt.id}` }], period: { start: formatInZone(t, tz), end: formatInZone(t + SLOT, tz) },
            } as Encounter)).resource;
            const diagnosis = DIAGNOSES[(counts.notes / 2) % DIAGNOSES.length];
            await repo.create({
              resourceType: 'Condition',
              clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
              category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
              code: { coding: [{ system: 'http://snomed.info/sct', ...diagnosis }], text: diagnosis.display },
              subject: { reference: `Patient/${patient}` }, encounter: { reference: `Encounter/${encounter.id}` },
              recordedDate: formatInZone(t + SLOT, tz), recorder: { reference: role.practitioner?.reference },
            } as Condition);
            counts.diagnoses++;
          }
        }
      }
    }
    // Upcoming bookings on generated free slots (about 60% of patients; some by video).
    const freeSlots = async (role: PractitionerRole) => (await repo.queryable.query<{ slot_id: string; starts: Date }>(
      `SELECT slot_id, starts FROM sched_slot WHERE schedule_id = $1 AND status = 'free' AND starts > $2 ORDER BY starts LIMIT 60`,
      [schedules.get(role.id as string), new Date(now + DAY)])).rows;
    const book = async (patient: string, role: PractitionerRole, extra: Partial<Appointment>) => {
      const options = (await freeSlots(role)).filter((r) => free(patient, role, new Date(r.starts).getTime()));
      if (!options.length) return;
      const chosen = pick(options);
      take(patient, role, new Date(chosen.starts).getTime());
      const slot = await repo.readResource<Slot>('Slot', chosen.slot_id);
      await repo.create(appointment(role, slot, patient, 'booked', extra));
      counts.appointments++;
    };
    for (const patient of patients) {
      if (rand() < 0.6) await book(patient, pick(others), rand() < 0.2 ? { appointmentType: { coding: [{ system: VISIT_TYPE_SYSTEM, code: 'video' }] } } : {});
    }
    // GP referrals to specialists; some already booked on them.
    for (const { patient, role } of visited.filter((v) => code(v.role) === 'gp').slice(0, 30)) {
      const specialist = pick(specialists);
      const sr: ServiceRequest = {
        resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${patient}` },
        requester: { reference: role.practitioner?.reference }, performer: [{ reference: specialist.practitioner?.reference as string }],
        category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
        code: { text: `${specialist.specialty?.[0]?.text ?? 'Specialist'} consultation` },
        note: [{ text: `Dear colleague, I would be grateful for your opinion on this patient. ${pick(NOTES)}` }],
        occurrencePeriod: { start: new Date(now - DAY).toISOString(), end: new Date(now + 90 * DAY).toISOString() },
        authoredOn: new Date(now - DAY).toISOString(),
      };
      const created = (await repo.create(sr)).resource;
      counts.referrals++;
      if (counts.referrals % 3 === 0) await book(patient, specialist, { basedOn: [{ reference: `ServiceRequest/${created.id}` }] });
    }
    // Ratings of providers and centres by patients who visited them.
    for (const [i, { patient, role }] of visited.entries()) {
      if (i % 3 !== 0) continue;
      const rate = async (subject: string) => {
        const comment = pick(COMMENTS);
        const basic: Basic = {
          resourceType: 'Basic', meta: { profile: [RATING_PROFILE] }, code: { coding: [{ system: RATING_CODE_SYSTEM, code: 'rating' }] },
          subject: { reference: subject }, author: { reference: `Patient/${patient}` }, created: new Date(now).toISOString().slice(0, 10),
          extension: [{ url: RATING_SCORE_URL, valueInteger: 2 + Math.floor(rand() * 4) }, ...(comment ? [{ url: RATING_COMMENT_URL, valueString: comment }] : [])],
        };
        await repo.create(basic);
        counts.ratings++;
      };
      await rate(role.practitioner?.reference as string);
      if (rand() < 0.5) await rate(role.organization?.reference as string);
    }
  });
  return counts;
}
