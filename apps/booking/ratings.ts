/**
 * Ratings of providers (server: server/src/scheduling/ratings.ts, profile profiles/rating.json):
 * a `Basic` coded `rating` whose subject is the provider (Practitioner), whose author is the
 * patient, with a 1–5 score and an optional comment. Only a patient's latest rating of a provider
 * counts; the server refuses patients who never had an appointment with them. Rated resources
 * (and the provider's PractitionerRoles, the centre's Locations) carry the average and count.
 */
import type { MedplumClient } from '@medplum/core';
import type { Basic, Extension } from '@medplum/fhirtypes';

const CANONICAL_BASE = 'https://fhir.clinic.example';
const RATING_PROFILE = `${CANONICAL_BASE}/StructureDefinition/rating`;
const RATING_CODE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/basic-type`;
const RATING_SCORE_URL = `${CANONICAL_BASE}/StructureDefinition/rating-score`;
const RATING_COMMENT_URL = `${CANONICAL_BASE}/StructureDefinition/rating-comment`;
const RATING_SUMMARY_URL = `${CANONICAL_BASE}/StructureDefinition/rating-summary`;

export interface RatingSummary {
  average: number;
  count: number;
}

/** The rating summary a resource carries, when it has been rated at all. */
export function summaryOf(resource: { extension?: Extension[] } | undefined): RatingSummary | undefined {
  const summary = resource?.extension?.find((e) => e.url === RATING_SUMMARY_URL)?.extension;
  const average = summary?.find((e) => e.url === 'average')?.valueDecimal;
  const count = summary?.find((e) => e.url === 'count')?.valueInteger;
  return average !== undefined && count ? { average, count } : undefined;
}

/** "4.5 ★ (12 ratings)". */
export function summaryText(s: RatingSummary): string {
  return `${s.average.toFixed(1)} ★ (${s.count} ${s.count === 1 ? 'rating' : 'ratings'})`;
}

/** The score of a rating resource. */
export function scoreOf(rating: Basic): number | undefined {
  return rating.extension?.find((e) => e.url === RATING_SCORE_URL)?.valueInteger;
}

/** The patient's latest rating of each provider they rated, by "Practitioner/id". */
export async function myRatings(medplum: MedplumClient, patient: string): Promise<Map<string, Basic>> {
  const ratings = await medplum.searchResources('Basic', new URLSearchParams([
    ['author', patient], ['code', `${RATING_CODE_SYSTEM}|rating`], ['_sort', '-_lastUpdated'], ['_count', '200'],
  ]));
  const latest = new Map<string, Basic>();
  for (const r of ratings) {
    const subject = r.subject?.reference;
    if (subject && !latest.has(subject)) latest.set(subject, r);
  }
  return latest;
}

/** Rates a provider (a new rating; the server keeps only the latest one per patient). */
export function rateProvider(medplum: MedplumClient, patient: string, practitioner: string, score: number, comment: string): Promise<Basic> {
  const text = comment.trim();
  return medplum.createResource<Basic>({
    resourceType: 'Basic',
    meta: { profile: [RATING_PROFILE] },
    code: { coding: [{ system: RATING_CODE_SYSTEM, code: 'rating' }] },
    subject: { reference: practitioner },
    author: { reference: patient },
    extension: [{ url: RATING_SCORE_URL, valueInteger: score }, ...(text ? [{ url: RATING_COMMENT_URL, valueString: text }] : [])],
  });
}
