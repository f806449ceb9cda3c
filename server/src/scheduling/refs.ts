/** Small helpers shared by the scheduling rules: references, callers, lookups. */
import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Caller } from '../context.ts';
import type { FhirRepository } from '../fhir/repo/repository.ts';

/** `Patient/123` (relative, or absolute under our base) → ["Patient", "123"]. */
export function refParts(ref: Reference | string | undefined): [string, string] | undefined {
  const r = typeof ref === 'string' ? ref : ref?.reference;
  if (!r) return undefined;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/\d+)?$/.exec(r);
  return m ? [m[1], m[2]] : undefined;
}

export function refId(ref: Reference | string | undefined, type: string): string | undefined {
  const p = refParts(ref);
  return p && p[0] === type ? p[1] : undefined;
}

/** The current version of a resource, read with the platform's rights (rules need the truth). */
export async function readAsPlatform<T extends Resource>(repo: FhirRepository, type: string, id: string | undefined): Promise<T | undefined> {
  if (!id) return undefined;
  const row = await repo.asPlatform().readVersion(type, id);
  return row && !row.deleted ? (JSON.parse(row.content as string) as T) : undefined;
}

/** The FHIR identity of a caller, e.g. ["Patient", "123"]. */
export function callerIdentity(caller: Caller | undefined): [string, string] | undefined {
  if (!caller) return undefined;
  return refParts(caller.fhirUser) ?? (caller.role === 'patient' && caller.patient ? ['Patient', caller.patient.replace(/^Patient\//, '')] : undefined);
}

/** Roles that may book on a patient's behalf. */
export const BOOKING_STAFF = new Set(['receptionist', 'admin']);

/** A backend service (client credentials, no user): treated like booking staff. */
export function isBackendService(caller: Caller): boolean {
  return !caller.role && !caller.fhirUser && caller.clientId !== undefined;
}
