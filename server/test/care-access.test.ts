/**
 * CARE over HTTP with real tokens, as a table: treating role × relationship with the patient
 * (none, booked, cancelled, break-glass, revoked) × resource type × interaction → status. Every
 * refusal is tried for real: 404 for what the caller may not see (the same answer as for a
 * record that does not exist), 403 for changes the caller may never make (others' entries,
 * deletes). Relationships are made the way the platform makes them: appointments (the write hook
 * creates the Consent), cancellation by updating the Appointment, revocation by the patient
 * updating the Consent with their own token, break-glass through `Patient/{id}/$break-glass`.
 */
import type { Bundle, Consent, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';
import { createUser, type TestUser } from './auth-helpers.ts';
import { book, cancel, clientFor, clinical, idOf, refsIn, writeAs, type Client } from './care-helpers.ts';

const PROVIDER_ROLES = ['gp', 'nurse', 'radiographer'] as const;
type ProviderRole = (typeof PROVIDER_ROLES)[number];
const RELATIONSHIPS = ['none', 'booked', 'cancelled', 'break-glass', 'revoked'] as const;
type Relationship = (typeof RELATIONSHIPS)[number];
const CLINICAL = ['Observation', 'Condition', 'DocumentReference', 'MedicationRequest', 'Encounter'] as const;
const TYPES = ['Patient', ...CLINICAL] as const;
const INTERACTIONS = ['read', 'search', 'create', 'update-own', 'update-others', 'delete'] as const;
type Interaction = (typeof INTERACTIONS)[number];

const GRANTING: ReadonlySet<Relationship> = new Set(['booked', 'break-glass']);

let server: TestServer;
const providers = {} as Record<ProviderRole, Client>;
/** One patient per relationship (each provider has that relationship with it). */
const patients = {} as Record<Relationship, TestUser>;
let revokingPatient: Client;
let admin: Client;
/** Entries written by another practitioner: `${relationship}|${type}` → resource. */
const others = new Map<string, Resource & { id: string }>();
/** Entries written by each provider: `${role}|${relationship}|${type}` → resource. */
const own = new Map<string, Resource & { id: string }>();
const breakGlassConsents: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  const patientUsers = await Promise.all(RELATIONSHIPS.map((r) => createUser(server, 'patient', { name: `Patient ${r}` })));
  RELATIONSHIPS.forEach((r, i) => (patients[r] = patientUsers[i]));
  const clients = await Promise.all(PROVIDER_ROLES.map((role) => clientFor(server, role)));
  PROVIDER_ROLES.forEach((role, i) => (providers[role] = clients[i]));
  [revokingPatient, admin] = await Promise.all([clientFor(server, 'patient', { user: patients.revoked }), clientFor(server, 'admin')]);

  const other = (await createUser(server, 'gp', { name: 'Other Author' })).fhirUser;
  for (const rel of RELATIONSHIPS) {
    for (const type of CLINICAL) others.set(`${rel}|${type}`, await writeAs(server, other, clinical(type, patients[rel].fhirUser, `by other (${rel})`)));
  }

  const appointments = new Map<string, Awaited<ReturnType<typeof book>>>();
  for (const role of PROVIDER_ROLES) {
    const p = providers[role];
    for (const rel of ['booked', 'cancelled', 'revoked'] as const) appointments.set(`${role}|${rel}`, await book(server, patients[rel].fhirUser, p.user.fhirUser));
    const bg = await p.post(`${patients['break-glass'].fhirUser}/$break-glass`, { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: `Collapsed in waiting room (${role})` }] });
    expect(bg.status).toBe(201);
    breakGlassConsents[role] = bg.body.id;
    // Each provider writes its own entries while it has access (over HTTP, as itself)...
    for (const rel of ['booked', 'cancelled', 'break-glass', 'revoked'] as const) {
      for (const type of CLINICAL) {
        const res = await p.post(type, clinical(type, patients[rel].fhirUser, `by ${role} (${rel})`));
        expect(res.status, `${role} creates ${type} for ${rel}`).toBe(201);
        own.set(`${role}|${rel}|${type}`, res.body);
      }
    }
    // ...and, for the patient it never saw, entries in its name from elsewhere (e.g. imported).
    for (const type of CLINICAL) own.set(`${role}|none|${type}`, await writeAs(server, p.user.fhirUser, clinical(type, patients.none.fhirUser, `by ${role} (none)`)));
  }
  // Then the relationships change: appointments cancelled, consents revoked by the patient.
  for (const role of PROVIDER_ROLES) {
    await cancel(server, appointments.get(`${role}|cancelled`)!);
    const consents = await revokingPatient.get(`Consent?patient=${patients.revoked.fhirUser}&actor=${providers[role].user.fhirUser}&status=active`);
    expect(consents.status).toBe(200);
    expect(consents.body.entry).toHaveLength(1);
    const consent = consents.body.entry[0].resource as Consent;
    const revoked = await revokingPatient.put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
    expect(revoked.status).toBe(200);
  }
});

afterAll(async () => {
  await server?.close();
});

interface Row {
  role: ProviderRole;
  rel: Relationship;
  type: (typeof TYPES)[number];
  interaction: Interaction;
  expected: number;
}

function expectedStatus(rel: Relationship, type: string, interaction: Interaction): number | undefined {
  const granted = GRANTING.has(rel);
  if (interaction === 'delete') return 403; // providers never delete (role table), seen or not
  if (type === 'Patient') {
    // A new Patient is not about a relationship; the Patient itself has no author rule.
    if (interaction === 'create' || interaction === 'update-own') return undefined;
    if (interaction === 'update-others') return granted ? 200 : 404;
  }
  switch (interaction) {
    case 'read': case 'search': return granted ? 200 : 404;
    case 'create': return granted ? 201 : 404;
    case 'update-own': return granted ? 200 : 404;
    case 'update-others': return granted ? 403 : 404;
  }
  return undefined;
}

const rows: Row[] = [];
for (const role of PROVIDER_ROLES) {
  for (const rel of RELATIONSHIPS) {
    for (const type of TYPES) {
      for (const interaction of INTERACTIONS) {
        const expected = expectedStatus(rel, type, interaction);
        if (expected !== undefined) rows.push({ role, rel, type, interaction, expected });
      }
    }
  }
}

/** An OperationOutcome as text with the asked-for id and the request id blanked (to compare refusals). */
function sameOutcome(body: unknown, id: string): string {
  return JSON.stringify(body).replaceAll(id, 'ID').replace(/request id [0-9a-f-]+/g, 'request id R');
}

/** The resource a row's interaction works on. */
function target(row: Row): Resource & { id: string } {
  const patient = patients[row.rel];
  if (row.type === 'Patient') return { resourceType: 'Patient', id: idOf(patient.fhirUser), name: [{ text: `Patient ${row.rel}` }] };
  if (row.interaction === 'update-own') return own.get(`${row.role}|${row.rel}|${row.type}`)!;
  return others.get(`${row.rel}|${row.type}`)!;
}

describe('role × relationship × type × interaction', () => {
  it.each(rows.map((r) => [`${r.role} | ${r.rel} | ${r.type} | ${r.interaction} → ${r.expected === 200 && r.interaction === 'search' ? 'found' : r.expected === 404 && r.interaction === 'search' ? 'nothing' : r.expected}`, r] as const))('%s', async (_name, row) => {
    const p = providers[row.role];
    const patient = patients[row.rel].fhirUser;
    const t = target(row);
    switch (row.interaction) {
      case 'read': {
        const res = await p.get(`${row.type}/${t.id}`);
        expect(res.status).toBe(row.expected);
        if (res.status === 404) {
          // The same answer as for a record that does not exist, and nothing of the record in it.
          const missingId = `does-not-exist-${row.rel}`;
          const missing = await p.get(`${row.type}/${missingId}`);
          expect(missing.status).toBe(404);
          expect(sameOutcome(res.body, t.id)).toBe(sameOutcome(missing.body, missingId));
        } else expect(res.body.id).toBe(t.id);
        break;
      }
      case 'search': {
        const query = row.type === 'Patient' ? `Patient?_id=${t.id}&_total=accurate` : `${row.type}?patient=${patient}&_total=accurate`;
        const res = await p.get(query);
        expect(res.status).toBe(200);
        const found = refsIn(res.body as Bundle, 'match');
        if (row.expected === 200) {
          const mine = row.type === 'Patient' ? [] : [`${row.type}/${own.get(`${row.role}|${row.rel}|${row.type}`)!.id}`];
          expect(found).toEqual(expect.arrayContaining([`${row.type}/${t.id}`, ...mine]));
          expect(res.body.total).toBe(found.length);
        } else {
          expect(found).toEqual([]);
          expect(res.body.total).toBe(0);
        }
        break;
      }
      case 'create': {
        const res = await p.post(row.type, clinical(row.type, patient, `new by ${row.role}`));
        expect(res.status).toBe(row.expected);
        if (row.expected !== 201) expect(res.body.resourceType).toBe('OperationOutcome');
        break;
      }
      case 'update-own':
      case 'update-others': {
        const { meta: _meta, ...body } = t as Resource & { id: string; meta?: unknown };
        const changed = row.type === 'Patient' ? { ...body, gender: 'unknown' } : { ...body, language: 'en-AU' };
        const res = await p.put(`${row.type}/${t.id}`, changed);
        expect(res.status, JSON.stringify(res.body?.issue?.[0]?.diagnostics ?? res.body?.issue?.[0]?.details)).toBe(row.expected);
        if (row.expected === 403 || row.expected === 404) expect(res.body.resourceType).toBe('OperationOutcome');
        break;
      }
      case 'delete': {
        const res = await p.del(`${row.type}/${t.id}`);
        expect(res.status).toBe(row.expected);
        // Refused the same way whether or not the record exists.
        expect((await p.del(`${row.type}/does-not-exist`)).status).toBe(row.expected);
        break;
      }
    }
  });

  it('refused writes changed nothing: others\' entries are at version 1', async () => {
    const platformView = await admin.get('Patient?_count=1'); // admin token works (sanity)
    expect(platformView.status).toBe(200);
    const { FhirRepository } = await import('../src/fhir/repo/repository.ts');
    const repo = new FhirRepository({ requestId: 'check' }, server.database.db, { referentialIntegrity: false });
    for (const r of others.values()) {
      const stored = await repo.readVersion(r.resourceType, r.id);
      expect(stored?.version, `${r.resourceType}/${r.id}`).toBe(1);
      expect(stored?.deleted).toBe(false);
    }
  });
});

describe('relationships change access at once', () => {
  it('booking grants, cancelling takes it away, a new booking grants again', async () => {
    const gp = providers.gp;
    const patient = await createUser(server, 'patient', { name: 'Fresh' });
    const obs = await writeAs(server, 'Practitioner/someone', clinical('Observation', patient.fhirUser, 'fresh'));
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(404);
    const appt = await book(server, patient.fhirUser, gp.user.fhirUser);
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(200);
    await cancel(server, appt);
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(404);
    expect(refsIn((await gp.get(`Observation?patient=${patient.fhirUser}`)).body)).toEqual([]);
    await book(server, patient.fhirUser, gp.user.fhirUser);
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(200);
  });

  it('a patient\'s revocation ends access until the next appointment; other providers keep theirs', async () => {
    const patient = await clientFor(server, 'patient', { name: 'Revoker' });
    const [gp, nurse] = [providers.gp, providers.nurse];
    const obs = await writeAs(server, 'Practitioner/someone', clinical('Observation', patient.user.fhirUser, 'bp'));
    await book(server, patient.user.fhirUser, gp.user.fhirUser);
    await book(server, patient.user.fhirUser, nurse.user.fhirUser);
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(200);
    const consents = await patient.get(`Consent?patient=${patient.user.fhirUser}&actor=${gp.user.fhirUser}`);
    const consent = consents.body.entry[0].resource as Consent;
    expect((await patient.put(`Consent/${consent.id}`, { ...consent, status: 'inactive' })).status).toBe(200);
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(404);
    expect((await nurse.get(`Observation/${obs.id}`)).status).toBe(200);
    await book(server, patient.user.fhirUser, gp.user.fhirUser);
    expect((await gp.get(`Observation/${obs.id}`)).status).toBe(200);
  });

  it('a patient cannot revoke (or see) another patient\'s consents', async () => {
    const consent = await admin.get(`Consent?patient=${patients.booked.fhirUser}&actor=${providers.gp.user.fhirUser}`);
    expect(consent.body.entry).toHaveLength(1);
    const c = consent.body.entry[0].resource as Consent;
    expect((await revokingPatient.get(`Consent/${c.id}`)).status).toBe(404);
    expect((await revokingPatient.put(`Consent/${c.id}`, { ...c, status: 'inactive' })).status).toBe(404);
    expect((await providers.gp.get(`Observation/${others.get('booked|Observation')!.id}`)).status).toBe(200);
  });
});

describe('break-glass', () => {
  it('needs a reason and a treating role', async () => {
    const patient = patients.none.fhirUser;
    expect((await providers.gp.post(`${patient}/$break-glass`, { resourceType: 'Parameters', parameter: [] })).status).toBe(400);
    expect((await admin.post(`${patient}/$break-glass`, { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'x' }] })).status).toBe(403);
    expect((await revokingPatient.post(`${revokingPatient.user.fhirUser}/$break-glass`, { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'x' }] })).status).toBe(403);
    // Still nothing for the GP: a refused break-glass grants nothing.
    expect((await providers.gp.get(`Observation/${others.get('none|Observation')!.id}`)).status).toBe(404);
  });

  it('is shown to the patient and to admins (a 24-hour Consent), and audited', async () => {
    const patient = await clientFor(server, 'patient', { user: patients['break-glass'] });
    const mine = await patient.get(`Consent?patient=${patient.user.fhirUser}`);
    const seen = refsIn(mine.body);
    for (const role of PROVIDER_ROLES) expect(seen).toContain(`Consent/${breakGlassConsents[role]}`);
    const forAdmin = await admin.get(`Consent/${breakGlassConsents.gp}`);
    expect(forAdmin.status).toBe(200);
    const consent = forAdmin.body as Consent;
    expect(consent.provision?.actor?.[0]?.reference?.reference).toBe(providers.gp.user.fhirUser);
    expect(Date.parse(consent.provision!.period!.end!) - Date.parse(consent.provision!.period!.start!)).toBe(24 * 3600_000);
    const audit = await patient.get(`AuditEvent?patient=${patient.user.fhirUser}&entity=Consent/${breakGlassConsents.gp}`);
    expect(audit.status).toBe(200);
    const events = (audit.body as Bundle).entry?.map((e) => e.resource as any) ?? [];
    const bg = events.filter((e) => e.subtype?.some((s: any) => s.code === 'break-glass'));
    expect(bg).toHaveLength(1);
    expect(bg[0].agent[0].who.reference).toBe(providers.gp.user.fhirUser);
    expect(bg[0].outcomeDesc).toContain('Collapsed in waiting room (gp)');
  });
});
