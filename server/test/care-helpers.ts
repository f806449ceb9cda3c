/**
 * Helpers for the CARE suites over HTTP: real tokens for users, a FHIR client per token,
 * appointments that make (and cancel) care relationships, and clinical entries written in a
 * given practitioner's name (so authorship rules have someone else's notes to refuse).
 */
import type { Appointment, Bundle, Resource } from '@medplum/fhirtypes';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { createResource, createUser, loginForTokens, type TestUser } from './auth-helpers.ts';
import { fetchJson, type JsonResponse, type TestServer } from './server.ts';
import type { Role } from '../src/accounts/roles.ts';

export interface Client {
  user: TestUser;
  token: string;
  get(path: string): Promise<JsonResponse>;
  post(path: string, body: unknown): Promise<JsonResponse>;
  put(path: string, body: unknown): Promise<JsonResponse>;
  del(path: string): Promise<JsonResponse>;
  /** GET an absolute URL (paging links). */
  url(url: string): Promise<JsonResponse>;
}

/** A user of `role` with a real token: patients through booking-app, staff through charting-app. */
export async function clientFor(server: TestServer, role: Role, options: { user?: TestUser; scope?: string; name?: string } = {}): Promise<Client> {
  const user = options.user ?? (await createUser(server, role, { name: options.name }));
  const scope = options.scope ?? (role === 'patient' ? 'patient/*.cruds' : 'user/*.cruds');
  const tokens = await loginForTokens(server, user, { clientId: role === 'patient' ? 'booking-app' : 'charting-app', scope });
  return clientWithToken(server, user, tokens.access_token as string);
}

export function clientWithToken(server: TestServer, user: TestUser, token: string): Client {
  const headers = { authorization: `Bearer ${token}` };
  const at = (path: string) => `${server.fhir}/${path.replace(/^\//, '')}`;
  return {
    user,
    token,
    get: (path) => fetchJson(at(path), { headers }),
    post: (path, body) => fetchJson(at(path), { method: 'POST', body, headers }),
    put: (path, body) => fetchJson(at(path), { method: 'PUT', body, headers }),
    del: (path) => fetchJson(at(path), { method: 'DELETE', headers }),
    url: (url) => fetchJson(url, { headers }),
  };
}

export const idOf = (ref: string) => ref.split('/')[1];

let day = 0;
/** A booked appointment between a patient and a practitioner (platform-written), days apart from all others. */
export async function book(server: TestServer, patient: string, practitioner: string, extra: Resource[] = []): Promise<Appointment & { id: string }> {
  const start = new Date(Date.UTC(2032, 0, 1) + ++day * 3600_000 * 24);
  return createResource(server, {
    resourceType: 'Appointment',
    status: 'booked',
    start: start.toISOString(),
    end: new Date(start.getTime() + 30 * 60_000).toISOString(),
    participant: [
      { actor: { reference: patient }, status: 'accepted' },
      { actor: { reference: practitioner }, status: 'accepted' },
      ...extra.map((r) => ({ actor: { reference: `${r.resourceType}/${r.id}` }, status: 'accepted' as const })),
    ],
  } as Appointment);
}

/** Cancels an appointment as the platform (the same write hook runs as for any writer). */
export async function cancel(server: TestServer, appointment: Appointment & { id: string }): Promise<void> {
  const repo = new FhirRepository({ requestId: 'test' }, server.database.db, { referentialIntegrity: false });
  const current = await repo.readResource<Appointment>('Appointment', appointment.id);
  await repo.update({ ...current, status: 'cancelled' });
}

/** Writes a resource in `author`'s name (recorded as its author) without any access rule. */
export async function writeAs<T extends Resource>(server: TestServer, author: string, resource: T): Promise<T & { id: string }> {
  const repo = new FhirRepository({ requestId: 'test', caller: { subject: author, fhirUser: author, scopes: [] } }, server.database.db, { referentialIntegrity: false });
  return (await repo.create(resource)).resource as T & { id: string };
}

/** Clinical entries of one type about `patient` (minimal valid R4). */
export function clinical(type: string, patient: string, text = 'note'): Resource {
  const subject = { reference: patient };
  switch (type) {
    case 'Observation': return { resourceType: 'Observation', status: 'final', code: { text }, subject };
    case 'Condition': return { resourceType: 'Condition', code: { text }, subject };
    case 'DocumentReference': return { resourceType: 'DocumentReference', status: 'current', description: text, subject, content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(text).toString('base64') } }] };
    case 'MedicationRequest': return { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text }, subject };
    case 'MedicationDispense': return { resourceType: 'MedicationDispense', status: 'completed', medicationCodeableConcept: { text }, subject };
    case 'Encounter': return { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject, reasonCode: [{ text }] };
    case 'Procedure': return { resourceType: 'Procedure', status: 'completed', code: { text }, subject };
    case 'AllergyIntolerance': return { resourceType: 'AllergyIntolerance', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, patient: subject, code: { text } };
    default: throw new Error(`no clinical template for ${type}`);
  }
}

/** `Type/id` of every entry of a Bundle (optionally only of one search mode). */
export function refsIn(bundle: Bundle | undefined, mode?: 'match' | 'include'): string[] {
  return (bundle?.entry ?? []).filter((e) => !mode || e.search?.mode === mode).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}
