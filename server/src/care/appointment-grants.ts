/**
 * Appointments make care relationships: when a patient has an appointment with a provider
 * (proposed, pending, booked, arrived, checked-in or fulfilled), a permit Consent lets that
 * practitioner see the patient's history at every centre. When the last such appointment of the
 * pair is cancelled (or no-show, entered in error, deleted), the appointment Consents of the pair
 * become inactive: a cancelled appointment grants nothing.
 */
import type { Appointment, Consent, PractitionerRole } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { grantConsent } from './consents.ts';
import { activeGrantConsents } from './grants.ts';
import { isTimelessRequest } from '../scheduling/codes.ts';

export const GRANTING_STATUSES = ['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled'];

/** A time-less appointment request grants nothing: anyone could name any provider in one. */
function isGranting(a: Appointment | undefined): boolean {
  return !!a && GRANTING_STATUSES.includes(a.status as string) && !isTimelessRequest(a);
}

interface Pair {
  patientId: string;
  practitionerId: string;
}

/** Patient × practitioner pairs of an appointment (PractitionerRoles resolved to their Practitioner). */
async function pairsOf(repo: FhirRepository, a: Appointment): Promise<Pair[]> {
  const patients = new Set<string>();
  const practitioners = new Set<string>();
  for (const p of a.participant ?? []) {
    if (p.status === 'declined') continue;
    const ref = p.actor?.reference ?? '';
    const [type, id] = ref.split('/');
    if (type === 'Patient' && id) patients.add(id);
    else if (type === 'Practitioner' && id) practitioners.add(id);
    else if (type === 'PractitionerRole' && id) {
      const role = await repo.asPlatform().readVersion('PractitionerRole', id);
      const practitioner = role?.content ? (JSON.parse(role.content) as PractitionerRole).practitioner?.reference : undefined;
      const pid = /^Practitioner\/([^/]+)$/.exec(practitioner ?? '')?.[1];
      if (pid) practitioners.add(pid);
    }
  }
  return [...patients].flatMap((patientId) => [...practitioners].map((practitionerId) => ({ patientId, practitionerId })));
}

/** Whether another appointment (not `exceptId`) of the pair still grants access. */
async function otherGrantingAppointment(repo: FhirRepository, pair: Pair, exceptId: string): Promise<boolean> {
  const { rows } = await repo.queryable.query(
    `SELECT 1 FROM resource a
      WHERE a.type = 'Appointment' AND NOT a.deleted AND a.id <> $3
        AND EXISTS (SELECT 1 FROM idx_token t WHERE t.res_type = 'Appointment' AND t.res_id = a.id AND t.param = 'status' AND t.code = ANY($4::text[]))
        -- a time (start) or a slot: time-less requests grant nothing
        AND (EXISTS (SELECT 1 FROM idx_date d WHERE d.res_type = 'Appointment' AND d.res_id = a.id AND d.param = 'date')
          OR EXISTS (SELECT 1 FROM idx_reference s WHERE s.res_type = 'Appointment' AND s.res_id = a.id AND s.param = 'slot'))
        AND EXISTS (SELECT 1 FROM idx_reference x WHERE x.res_type = 'Appointment' AND x.res_id = a.id AND x.param = 'patient'
                      AND x.target_type = 'Patient' AND x.target_id = $1)
        AND EXISTS (SELECT 1 FROM idx_reference x WHERE x.res_type = 'Appointment' AND x.res_id = a.id AND x.param = 'actor'
                      AND ((x.target_type = 'Practitioner' AND x.target_id = $2)
                        OR (x.target_type = 'PractitionerRole' AND x.target_id IN (
                              SELECT res_id FROM idx_reference WHERE res_type = 'PractitionerRole' AND param = 'practitioner'
                                 AND target_type = 'Practitioner' AND target_id = $2))))
      LIMIT 1`,
    [pair.patientId, pair.practitionerId, exceptId, GRANTING_STATUSES],
    'care_other_granting_appointment',
  );
  return rows.length > 0;
}

export async function onAppointmentWritten(repo: FhirRepository, stored: Appointment | undefined, previous: Appointment | undefined): Promise<void> {
  const platform = repo.asPlatform();
  if (stored && isGranting(stored)) {
    for (const pair of await pairsOf(repo, stored)) {
      if ((await activeGrantConsents(repo.queryable, pair.patientId, pair.practitionerId, 'appointment')).length) continue;
      await platform.create(grantConsent({ ...pair, kind: 'appointment', start: new Date(), source: { reference: `Appointment/${stored.id}` } }));
    }
  }
  if (previous && isGranting(previous) && !isGranting(stored)) {
    for (const pair of await pairsOf(repo, previous)) {
      if (await otherGrantingAppointment(repo, pair, previous.id as string)) continue;
      for (const consentId of await activeGrantConsents(repo.queryable, pair.patientId, pair.practitionerId, 'appointment')) {
        const consent = await platform.readResource<Consent>('Consent', consentId);
        await platform.update({ ...consent, status: 'inactive' });
      }
    }
  }
}
