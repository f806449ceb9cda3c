/**
 * Ratings (profile: profiles/rating.json): a `Basic` with code `rating`, the rated provider or
 * centre as subject, the Patient as author, a 1–5 score and an optional comment.
 *
 * Ratings of a PractitionerRole count for its Practitioner (the provider); ratings of a Location
 * or HealthcareService count for its Organization (the centre). `sched_rating` keeps one row per
 * patient and provider/centre — the latest — and every write for one provider/centre is
 * serialised by an advisory lock, so the averages are exact under concurrent ratings. The rated
 * resources carry the `rating-summary` extension, recomputed whenever they are written.
 */
import type { Basic, Extension, Resource } from '@medplum/fhirtypes';
import type { WriteHook } from '../fhir/repo/hooks.ts';
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { badRequest, unprocessable } from '../fhir/outcomes.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { CANONICAL_BASE } from './codes.ts';
import { BOOKING_STAFF, callerIdentity, readAsPlatform, refId, refParts } from './refs.ts';

export const RATING_PROFILE = `${CANONICAL_BASE}/StructureDefinition/rating`;
export const RATING_CODE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/basic-type`;
export const RATING_SCORE_URL = `${CANONICAL_BASE}/StructureDefinition/rating-score`;
export const RATING_COMMENT_URL = `${CANONICAL_BASE}/StructureDefinition/rating-comment`;
export const RATING_SUMMARY_URL = `${CANONICAL_BASE}/StructureDefinition/rating-summary`;
export const RATED_TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'HealthcareService'];

export function isRating(r: Resource | undefined): r is Basic {
  return r?.resourceType === 'Basic' && (r.code?.coding ?? []).some((c) => c.system === RATING_CODE_SYSTEM && c.code === 'rating');
}

/** The provider or centre a rated resource stands for: "Practitioner/x" or "Organization/y". */
async function ratedEntity(repo: FhirRepository, r: Resource | undefined, type?: string, id?: string): Promise<string | undefined> {
  const res = r ?? (type && id ? await readAsPlatform(repo, type, id) : undefined);
  if (!res) return undefined;
  switch (res.resourceType) {
    case 'Practitioner': case 'Organization': return `${res.resourceType}/${res.id}`;
    case 'PractitionerRole': return refParts(res.practitioner)?.join('/');
    case 'Location': return refParts(res.managingOrganization)?.join('/');
    case 'HealthcareService': return refParts(res.providedBy)?.join('/');
    default: return undefined;
  }
}

async function lockEntity(repo: FhirRepository, entity: string): Promise<void> {
  await repo.queryable.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sched:rating:${entity}`]);
}

export interface RatingSummary { average: number; count: number; total: number }

export async function ratingSummary(repo: FhirRepository, entity: string): Promise<RatingSummary> {
  const { rows } = await repo.queryable.query<{ n: number; total: number | null }>(
    'SELECT count(*)::int AS n, sum(score)::int AS total FROM sched_rating WHERE target = $1', [entity], 'sched_rating_summary');
  const count = rows[0].n;
  const total = rows[0].total ?? 0;
  return { count, total, average: count ? Math.round((total / count) * 100) / 100 : 0 };
}

function checkRating(r: Basic): { score: number; subject: [string, string]; author: string } {
  const score = r.extension?.find((e) => e.url === RATING_SCORE_URL)?.valueInteger;
  if (!Number.isInteger(score) || (score as number) < 1 || (score as number) > 5) throw badRequest('A rating needs a whole-number score from 1 to 5', ['Basic.extension']);
  const subject = refParts(r.subject);
  if (!subject || !RATED_TYPES.includes(subject[0])) throw badRequest(`A rating rates a ${RATED_TYPES.join(', ')}`, ['Basic.subject']);
  const author = refId(r.author, 'Patient');
  if (!author) throw badRequest('A rating\'s author is the Patient who rates', ['Basic.author']);
  return { score: score as number, subject, author };
}

/** Whether the patient has had an appointment with the provider or at the centre. */
async function hasVisited(repo: FhirRepository, patientId: string, entity: string): Promise<boolean> {
  const [type, id] = entity.split('/');
  const column = type === 'Practitioner' ? 'practitioner_id' : 'organization_id';
  const { rowCount } = await repo.queryable.query(
    `SELECT 1 FROM sched_appointment WHERE patient_id = $1 AND ${column} = $2 AND starts <= now() LIMIT 1`, [patientId, id]);
  return rowCount > 0;
}

/** Writes the resources showing an entity's rating again, so they carry its new summary. */
async function refreshSummaries(repo: FhirRepository, entity: string): Promise<void> {
  const platform = repo.asPlatform();
  const [type, id] = entity.split('/');
  const touch = async (t: string, i: string) => {
    const r = await readAsPlatform(repo, t, i);
    if (r) await platform.update(r);
  };
  await touch(type, id);
  const related = type === 'Practitioner' ? [['PractitionerRole', 'practitioner']] : [['Location', 'organization'], ['HealthcareService', 'organization']];
  for (const [t, param] of related) {
    const search = parseSearch(t, { [param]: entity });
    search.count = 1000;
    for (const m of (await platform.search(search)).matches) await touch(t, m.id);
  }
}

export const ratingHook: WriteHook = {
  name: 'scheduling.rating',
  types: ['Basic'],
  async beforeWrite(repo, next, previous) {
    if (!isRating(next)) return;
    const { subject, author } = checkRating(next);
    const entity = await ratedEntity(repo, undefined, subject[0], subject[1]);
    if (!entity) throw unprocessable(`${subject.join('/')} does not exist or belongs to no provider or centre`, ['Basic.subject']);
    if (previous && isRating(previous) && refId(previous.author, 'Patient') !== author) throw unprocessable('A rating cannot change hands', ['Basic.author']);
    const caller = repo.context.caller;
    if (caller && !(caller.role && BOOKING_STAFF.has(caller.role))) {
      if (callerIdentity(caller)?.join('/') !== `Patient/${author}`) throw unprocessable('Patients rate in their own name only', ['Basic.author']);
      if (!(await hasVisited(repo, author, entity))) throw unprocessable('Only a patient who has had an appointment with this provider or at this centre may rate it');
    }
    return { ...next, created: next.created ?? new Date().toISOString().slice(0, 10) } as Basic;
  },
  async afterWrite(repo, stored, previous) {
    const entities = new Set<string>();
    if (isRating(previous)) {
      const p = checkRating(previous);
      const entity = await ratedEntity(repo, undefined, p.subject[0], p.subject[1]);
      if (entity) {
        await lockEntity(repo, entity);
        await repo.queryable.query('DELETE FROM sched_rating WHERE target = $1 AND rater = $2 AND rating_id = $3', [entity, p.author, previous.id]);
        entities.add(entity);
      }
    }
    if (isRating(stored)) {
      const r = checkRating(stored);
      const entity = (await ratedEntity(repo, undefined, r.subject[0], r.subject[1])) as string;
      await lockEntity(repo, entity);
      await repo.queryable.query(
        `INSERT INTO sched_rating (target, rater, score, rating_id, rated_at) VALUES ($1, $2, $3, $4, clock_timestamp())
         ON CONFLICT (target, rater) DO UPDATE SET score = EXCLUDED.score, rating_id = EXCLUDED.rating_id, rated_at = EXCLUDED.rated_at`,
        [entity, r.author, r.score, stored.id],
      );
      entities.add(entity);
    }
    for (const e of entities) await refreshSummaries(repo, e);
  },
};

/** Stamps the current rating summary on every write of a rated resource (clients cannot set it). */
export const ratingSummaryHook: WriteHook = {
  name: 'scheduling.rating-summary',
  types: RATED_TYPES,
  async beforeWrite(repo, next) {
    if (!next) return;
    const others = ((next as { extension?: Extension[] }).extension ?? []).filter((e) => e.url !== RATING_SUMMARY_URL);
    const entity = await ratedEntity(repo, next);
    const summary = entity ? await ratingSummary(repo, entity) : undefined;
    const extension: Extension[] = summary?.count
      ? [...others, { url: RATING_SUMMARY_URL, extension: [
        { url: 'average', valueDecimal: summary.average }, { url: 'count', valueInteger: summary.count }, { url: 'total', valueInteger: summary.total },
      ] }]
      : others;
    const out = { ...next, extension } as Resource & { extension?: Extension[] };
    if (!extension.length) delete out.extension;
    return out;
  },
};
