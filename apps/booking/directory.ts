/**
 * The clinic directory as the booking app needs it: providers (PractitionerRoles with their
 * Practitioner, Location and Organization, fetched in one search with _include) and their free
 * 30-minute Slots on one day. Directory data is readable with any patient token (CONTRACT).
 */
import type { MedplumClient } from '@medplum/core';
import type { Bundle, Location, Organization, Practitioner, PractitionerRole, Resource, Slot } from '@medplum/fhirtypes';
import { nameOf } from './format.ts';

/** One bookable provider at one centre. */
export interface Provider {
  role: PractitionerRole;
  practitioner?: Practitioner;
  location?: Location;
  organization?: Organization;
}

export interface ProviderQuery {
  /** PractitionerRole.code, e.g. "gp"; empty: any. */
  role: string;
  /** Free text matched against the specialty (e.g. "cardio"). */
  specialty: string;
  /** Free text matched against the centre's name or its suburb. */
  centre: string;
}

const INCLUDES = ['PractitionerRole:practitioner', 'PractitionerRole:location', 'PractitionerRole:organization'];

/** Resources of a Bundle by "Type/id", matches and includes alike. */
export function indexBundle(bundle: Bundle): Map<string, Resource> {
  const byRef = new Map<string, Resource>();
  for (const e of bundle.entry ?? []) {
    if (e.resource?.id) byRef.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }
  return byRef;
}

function providersOf(bundle: Bundle): Provider[] {
  const byRef = indexBundle(bundle);
  const pick = <T extends Resource>(ref: string | undefined) => (ref ? (byRef.get(ref) as T | undefined) : undefined);
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === 'PractitionerRole')
    .map((e) => {
      const role = e.resource as PractitionerRole;
      return {
        role,
        practitioner: pick<Practitioner>(role.practitioner?.reference),
        location: pick<Location>(role.location?.[0]?.reference),
        organization: pick<Organization>(role.organization?.reference),
      };
    });
}

async function searchRoles(medplum: MedplumClient, params: [string, string][]): Promise<Provider[]> {
  const all: [string, string][] = [['active', 'true'], ['_count', '50'], ...params, ...INCLUDES.map((i): [string, string] => ['_include', i])];
  return providersOf(await medplum.search('PractitionerRole', new URLSearchParams(all)));
}

/**
 * Providers matching every filter given. A centre can be named by its own name or by its suburb,
 * two different search parameters, so that filter runs as two searches whose results are merged.
 */
export async function findProviders(medplum: MedplumClient, q: ProviderQuery): Promise<Provider[]> {
  const base: [string, string][] = [];
  if (q.role) base.push(['role', q.role]);
  if (q.specialty.trim()) base.push(['specialty:text', q.specialty.trim()]);
  const centre = q.centre.trim();
  const searches = centre
    ? [[...base, ['location.name:contains', centre]], [...base, ['location.address-city:contains', centre]]] as [string, string][][]
    : [base];
  const results = (await Promise.all(searches.map((p) => searchRoles(medplum, p)))).flat();
  const unique = new Map(results.map((p) => [p.role.id, p]));
  return [...unique.values()].sort((a, b) => nameOf(a.practitioner).localeCompare(nameOf(b.practitioner)));
}

/** The provider's first free slot from now on, if any (to suggest a day when one is empty). */
export async function nextFreeSlot(medplum: MedplumClient, roleId: string): Promise<Slot | undefined> {
  const params = new URLSearchParams([
    ['schedule.actor', `PractitionerRole/${roleId}`],
    ['start', `gt${new Date().toISOString()}`],
    ['status', 'free'],
    ['_sort', 'start'],
    ['_count', '1'],
  ]);
  return (await medplum.searchResources('Slot', params))[0];
}

/** The provider's free slots that start on the given local day ("YYYY-MM-DD"), soonest first. */
export async function freeSlotsOn(medplum: MedplumClient, roleId: string, day: string): Promise<Slot[]> {
  const from = new Date(`${day}T00:00:00`);
  const to = new Date(from);
  to.setDate(to.getDate() + 1);
  const params = new URLSearchParams([
    ['schedule.actor', `PractitionerRole/${roleId}`],
    ['start', `ge${from.toISOString()}`],
    ['start', `lt${to.toISOString()}`],
    ['status', 'free'],
    ['_sort', 'start'],
    ['_count', '100'],
  ]);
  const now = Date.now();
  // A slot earlier today is still "free" but can no longer be booked.
  return (await medplum.searchResources('Slot', params)).filter((s) => Date.parse(s.start) > now);
}
