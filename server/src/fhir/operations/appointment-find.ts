/**
 * `Appointment/$find` (Argonaut/IHE style): bookable options as a searchset Bundle of proposed
 * Appointments, one per free slot, soonest first. Parameters (query or a Parameters body):
 * start, end (default: now to 7 days on), practitioner, practitioner-role, location,
 * organization, specialty (text), service-type (the role, e.g. gp), patient, visit-type, _count.
 */
import type { Appointment, Bundle, Parameters, PractitionerRole, Schedule } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes.ts';
import { parseSearch, type QueryParams } from '../search/parse.ts';
import type { FhirRepository } from '../repo/repository.ts';
import type { OperationDefinitionSummary } from './index.ts';
import { VISIT_TYPES, VISIT_TYPE_SYSTEM } from '../../scheduling/codes.ts';
import { schedulingSettings } from '../../scheduling/settings.ts';
import { formatInZone } from '../../scheduling/time.ts';
import { refId } from '../../scheduling/refs.ts';

/** Operation parameters from the query string and/or a Parameters body. */
export function operationParams(query: QueryParams, body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = Array.isArray(v) ? v[0] : v;
  const p = body as Parameters | undefined;
  if (p?.resourceType === 'Parameters') {
    for (const param of p.parameter ?? []) {
      const value = param.valueString ?? param.valueCode ?? param.valueDateTime ?? param.valueInstant ?? param.valueDate
        ?? param.valueUri ?? param.valueReference?.reference ?? (param.valueInteger !== undefined ? String(param.valueInteger) : undefined);
      if (value !== undefined && param.name) out[param.name] = value;
    }
  }
  return out;
}

function when(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw badRequest(`${name} must be a date or date-time, not "${value}"`);
  return ms;
}

async function candidateRoles(repo: FhirRepository, p: Record<string, string>): Promise<PractitionerRole[]> {
  const query: QueryParams = { active: 'true' };
  const withType = (type: string, v: string) => (v.includes('/') ? v : `${type}/${v}`);
  if (p.practitioner) query.practitioner = withType('Practitioner', p.practitioner);
  if (p['practitioner-role']) query._id = p['practitioner-role'].replace(/^PractitionerRole\//, '');
  if (p.location) query.location = withType('Location', p.location);
  if (p.organization) query.organization = withType('Organization', p.organization);
  if (p.specialty) query['specialty:text'] = p.specialty;
  if (p['service-type']) query.role = p['service-type'];
  const search = parseSearch('PractitionerRole', query);
  search.count = 1000;
  const { matches } = await repo.search(search);
  return matches.map((m) => JSON.parse(m.content as string) as PractitionerRole);
}

export const appointmentFindOperation: OperationDefinitionSummary = {
  name: 'find',
  definition: 'http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-find',
  types: ['Appointment'],
  levels: ['type'],
  methods: ['GET', 'POST'],
  async handler({ repo, req, router }) {
    const p = operationParams(req.query, req.body);
    const now = Date.now();
    const start = Math.max(when('start', p.start, now), now);
    const end = when('end', p.end, start + 7 * 86_400_000);
    if (end <= start) throw badRequest('end must be after start');
    const count = p._count === undefined ? 50 : Number(p._count);
    if (!Number.isInteger(count) || count < 0) throw badRequest('_count must be a non-negative integer');
    if (p['visit-type'] && !(VISIT_TYPES as readonly string[]).includes(p['visit-type'])) throw badRequest(`visit-type must be one of ${VISIT_TYPES.join(', ')}`);
    const roles = await candidateRoles(repo, p);
    const entries: Bundle['entry'] = [];
    if (roles.length) {
      const search = parseSearch('Schedule', { actor: roles.map((r) => `PractitionerRole/${r.id}`).join(','), active: 'true' });
      search.count = 1000;
      const schedules = (await repo.search(search)).matches.map((m) => JSON.parse(m.content as string) as Schedule);
      const roleOf = new Map(schedules.map((s) => [s.id as string, roles.find((r) => s.actor.some((a) => refId(a, 'PractitionerRole') === r.id)) as PractitionerRole]));
      const { rows } = await repo.queryable.query<{ slot_id: string; schedule_id: string; starts: Date; ends: Date }>(
        `SELECT s.slot_id, s.schedule_id, s.starts, s.ends FROM sched_slot s
          WHERE s.schedule_id = ANY($1::text[]) AND s.status IN ('free', 'busy-tentative') AND s.starts >= $2 AND s.ends <= $3
            AND NOT EXISTS (SELECT 1 FROM sched_claim c WHERE c.slot_id = s.slot_id AND (c.expires_at IS NULL OR c.expires_at > now()))
          ORDER BY s.starts, s.slot_id LIMIT $4`,
        [[...roleOf.keys()], new Date(start), new Date(end), Math.min(count, 1000)],
      );
      const tz = schedulingSettings().timeZone;
      for (const row of rows) {
        const role = roleOf.get(row.schedule_id) as PractitionerRole;
        const participant: Appointment['participant'] = [
          { actor: { reference: `PractitionerRole/${role.id}` }, status: 'needs-action' },
        ];
        if (role.practitioner?.reference) participant.push({ actor: { reference: role.practitioner.reference, display: role.practitioner.display }, status: 'needs-action' });
        if (role.location?.[0]?.reference) participant.push({ actor: { reference: role.location[0].reference, display: role.location[0].display }, status: 'needs-action' });
        if (p.patient) participant.unshift({ actor: { reference: p.patient.includes('/') ? p.patient : `Patient/${p.patient}` }, status: 'needs-action' });
        const appt: Appointment = {
          resourceType: 'Appointment', status: 'proposed', slot: [{ reference: `Slot/${row.slot_id}` }],
          start: formatInZone(new Date(row.starts).getTime(), tz), end: formatInZone(new Date(row.ends).getTime(), tz),
          serviceType: role.code, specialty: role.specialty, participant,
        };
        if (p['visit-type']) appt.appointmentType = { coding: [{ system: VISIT_TYPE_SYSTEM, code: p['visit-type'] }] };
        entries.push({ resource: appt, search: { mode: 'match' } });
      }
    }
    const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entries.length, link: [{ relation: 'self', url: `${router.base}/Appointment/$find` }], entry: entries };
    return { status: 200, body: bundle, headers: {} };
  },
};
