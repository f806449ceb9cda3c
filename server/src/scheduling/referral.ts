/**
 * The referral gate: a specialist is booked only on an active, unexpired, unused referral — a
 * ServiceRequest from a GP (requester), for this patient (subject), naming the specialist
 * (performer: their Practitioner or PractitionerRole) or their specialty (performerType).
 * "Unused" is enforced by a unique index on the referral an appointment records.
 */
import type { Appointment, PractitionerRole, ServiceRequest } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { unprocessable } from '../fhir/outcomes.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { PROVIDER_ROLE_SYSTEM } from './codes.ts';
import { readAsPlatform, refParts } from './refs.ts';

export function roleCodes(role: PractitionerRole): string[] {
  return (role.code ?? []).flatMap((c) => [...(c.coding ?? []).filter((x) => !x.system || x.system === PROVIDER_ROLE_SYSTEM).map((x) => x.code), c.text])
    .filter((x): x is string => !!x).map((x) => x.toLowerCase());
}

export function isSpecialist(role: PractitionerRole): boolean {
  return roleCodes(role).includes('specialist');
}

async function requesterIsGp(repo: FhirRepository, sr: ServiceRequest): Promise<boolean> {
  const parts = refParts(sr.requester);
  if (!parts) return false;
  const platform = repo.asPlatform();
  if (parts[0] === 'PractitionerRole') {
    const role = await readAsPlatform<PractitionerRole>(repo, 'PractitionerRole', parts[1]);
    return !!role && roleCodes(role).includes('gp');
  }
  if (parts[0] !== 'Practitioner') return false;
  const search = parseSearch('PractitionerRole', { practitioner: `Practitioner/${parts[1]}` });
  search.count = 50;
  const { matches } = await platform.search(search);
  return matches.some((m) => roleCodes(JSON.parse(m.content as string)).includes('gp'));
}

function namesSpecialist(sr: ServiceRequest, role: PractitionerRole): boolean {
  const targets = new Set([`PractitionerRole/${role.id}`, role.practitioner?.reference].filter(Boolean));
  if ((sr.performer ?? []).some((p) => {
    const parts = refParts(p);
    return parts && targets.has(`${parts[0]}/${parts[1]}`);
  })) return true;
  if (sr.performer?.length) return false;
  // No named performer: the referral is to a specialty.
  const wanted = (sr.performerType?.coding ?? []).map((c) => (c.display ?? c.code ?? '').toLowerCase()).concat((sr.performerType?.text ?? '').toLowerCase()).filter(Boolean);
  const offered = (role.specialty ?? []).flatMap((s) => [s.text, ...(s.coding ?? []).flatMap((c) => [c.code, c.display])]).filter(Boolean).map((x) => (x as string).toLowerCase());
  return wanted.some((w) => offered.includes(w));
}

/** The referral (ServiceRequest id) that allows this booking; 422 explaining why when none does. */
export async function requireReferral(repo: FhirRepository, appt: Appointment, role: PractitionerRole, patientId: string, start: number): Promise<string> {
  const ids = (appt.basedOn ?? []).map((r) => refParts(r)).filter((p) => p?.[0] === 'ServiceRequest').map((p) => (p as [string, string])[1]);
  if (!ids.length) {
    throw unprocessable('A specialist can be booked only on a referral: Appointment.basedOn must name an active ServiceRequest from a GP', ['Appointment.basedOn']);
  }
  const problems: string[] = [];
  for (const id of ids) {
    const sr = await readAsPlatform<ServiceRequest>(repo, 'ServiceRequest', id);
    const why = !sr ? 'does not exist'
      : sr.status !== 'active' ? `is ${sr.status}, not active`
      : sr.intent !== 'order' && sr.intent !== 'original-order' ? 'is not an order'
      : refParts(sr.subject)?.join('/') !== `Patient/${patientId}` ? 'is for another patient'
      : !namesSpecialist(sr, role) ? 'is to another specialist'
      : sr.occurrencePeriod?.end && Date.parse(sr.occurrencePeriod.end) < start ? 'has expired'
      : sr.occurrencePeriod?.start && Date.parse(sr.occurrencePeriod.start) > start ? 'is not valid yet'
      : !(await requesterIsGp(repo, sr)) ? 'was not made by a GP'
      : undefined;
    if (!why) {
      const used = await repo.queryable.query('SELECT 1 FROM sched_appointment WHERE referral_id = $1 AND appointment_id <> $2', [id, appt.id]);
      if (!used.rowCount) return id;
      problems.push(`ServiceRequest/${id} has already been used`);
    } else problems.push(`ServiceRequest/${id} ${why}`);
  }
  throw unprocessable(`No usable referral for this specialist: ${problems.join('; ')}`, ['Appointment.basedOn']);
}
