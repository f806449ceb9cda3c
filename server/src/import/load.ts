/**
 * Writes a validated import plan: centres, then users (Patient or Practitioner + account), then
 * one PractitionerRole per provider and centre — all in one transaction, so a failure leaves
 * nothing half-imported. Idempotent: every resource is found again by its identifier and only
 * written when it differs; accounts that exist are left alone (passwords included).
 */
import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/database.ts';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { hashPassword } from '../accounts/password.ts';
import { PROVIDER_ROLES } from '../accounts/roles.ts';
import { createAccount } from '../accounts/store.ts';
import type { ImportPlan, UserRow } from './validate.ts';
import { SYSTEMS, centreKey, emailKey, locationOf, organizationOf, patientOf, practitionerOf, practitionerRoleOf } from './resources.ts';
import type { Progress } from './progress.ts';

export interface ImportCounts {
  created: number;
  updated: number;
  unchanged: number;
  accountsCreated: number;
}

/** JSON with sorted keys and no id/meta, for "has this resource changed?". */
function canonical(value: unknown): string {
  return JSON.stringify(value, (k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).filter((key) => key !== 'meta' && key !== 'id').sort().map((key) => [key, v[key]]));
    }
    return v;
  });
}

async function upsert(repo: FhirRepository, resource: Resource & { identifier?: { system?: string; value?: string }[] }, system: string, counts: ImportCounts): Promise<Reference> {
  const value = resource.identifier?.find((i) => i.system === system)?.value as string;
  const search = parseSearch(resource.resourceType, { identifier: `${system}|${value}` });
  search.count = 2;
  const { matches } = await repo.search(search);
  if (matches.length > 1) throw new Error(`${resource.resourceType} with identifier ${system}|${value} exists more than once`);
  const ref = (id: string) => ({ reference: `${resource.resourceType}/${id}` });
  if (matches.length === 0) {
    counts.created++;
    return ref((await repo.create(resource)).resource.id as string);
  }
  const existing = JSON.parse(matches[0].content as string);
  if (canonical(existing) === canonical(JSON.parse(JSON.stringify(resource)))) {
    counts.unchanged++;
  } else {
    await repo.update({ ...resource, id: matches[0].id });
    counts.updated++;
  }
  return ref(matches[0].id);
}

/** Hashes the passwords of accounts that do not exist yet (outside the transaction: argon2 is slow). */
async function hashNewPasswords(db: Database, users: UserRow[], progress: Progress): Promise<Map<string, string>> {
  const { rows } = await db.query<{ e: string }>('SELECT lower(email) AS e FROM account WHERE lower(email) = ANY($1::text[])', [users.map((u) => emailKey(u.email))]);
  const existing = new Set(rows.map((r) => r.e));
  const todo = users.filter((u) => !existing.has(emailKey(u.email)));
  const hashes = new Map<string, string>();
  progress.start('hashing passwords', todo.length);
  let next = 0;
  // argon2 runs on libuv's thread pool: a few at once use the cores without flooding memory.
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < todo.length) {
      const u = todo[next++];
      hashes.set(emailKey(u.email), await hashPassword(u.password));
      progress.tick();
    }
  }));
  progress.done();
  return hashes;
}

export async function loadImport(db: Database, plan: ImportPlan, progress: Progress): Promise<ImportCounts> {
  const counts: ImportCounts = { created: 0, updated: 0, unchanged: 0, accountsCreated: 0 };
  const hashes = await hashNewPasswords(db, plan.users, progress);
  const root = new FhirRepository(systemContext(), db, { referentialIntegrity: true });
  await root.withTransaction(async (repo) => {
    const centres = new Map<string, { organization: Reference; location: Reference }>();
    progress.start('centres', plan.centres.length);
    for (const c of plan.centres) {
      const organization = await upsert(repo, organizationOf(c), SYSTEMS.centre, counts);
      const location = await upsert(repo, locationOf(c, organization), SYSTEMS.centre, counts);
      centres.set(centreKey(c.name), { organization, location });
      progress.tick();
    }
    progress.done();

    const practitioners = new Map<string, Reference>();
    progress.start('users', plan.users.length);
    for (const u of plan.users) {
      const isPatient = u.role === 'patient';
      const ref = isPatient
        ? await upsert(repo, patientOf(u), SYSTEMS.medicare, counts)
        : await upsert(repo, practitionerOf(u), SYSTEMS.account, counts);
      if (!isPatient) practitioners.set(emailKey(u.email), ref);
      const hash = hashes.get(emailKey(u.email));
      if (hash) {
        const created = await createAccount(repo.queryable, {
          email: u.email, passwordHash: hash, role: u.role, fullName: u.fullName, phone: u.phone,
          fhirUser: ref.reference, secondFactor: u.secondFactor,
        });
        if (created) counts.accountsCreated++;
      }
      progress.tick();
    }
    progress.done();

    // Group hours rows by provider and centre: one PractitionerRole each.
    const pairs = new Map<string, { user: UserRow; centre: string; rows: ImportPlan['hours'] }>();
    const byEmail = new Map(plan.users.map((u) => [emailKey(u.email), u]));
    for (const h of plan.hours) {
      const k = `${emailKey(h.providerEmail)}|${centreKey(h.centreName)}`;
      const pair = pairs.get(k) ?? { user: byEmail.get(emailKey(h.providerEmail)) as UserRow, centre: h.centreName, rows: [] };
      pair.rows.push(h);
      pairs.set(k, pair);
    }
    progress.start('practitioner roles', pairs.size);
    for (const { user, centre, rows } of pairs.values()) {
      if (!PROVIDER_ROLES.has(user.role)) continue;
      const c = centres.get(centreKey(centre));
      const practitioner = practitioners.get(emailKey(user.email));
      if (!c || !practitioner) continue;
      await upsert(repo, practitionerRoleOf(user, centre, rows, { practitioner, ...c }), SYSTEMS.practitionerRole, counts);
      progress.tick();
    }
    progress.done();
  });
  return counts;
}
