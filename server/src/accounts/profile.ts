/**
 * The FHIR side of an account: the Patient or Practitioner created with it, and updates to its
 * name and phone. Written through the FHIR repository (as the platform) inside the caller's
 * transaction, so the account and its resource appear together or not at all.
 */
import type { Patient, Practitioner } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../db/database.ts';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { patientOf, practitionerOf } from '../import/resources.ts';
import type { UserRow } from '../import/validate.ts';
import type { Role } from './roles.ts';

export interface Profile {
  role: Role;
  email: string;
  fullName: string;
  phone: string;
  medicareNumber?: string;
  providerNumber?: string;
}

function repoOn(tx: Queryable, db: Database): FhirRepository {
  return new FhirRepository(systemContext(), db, { referentialIntegrity: true }, tx);
}

/** Creates the user's Patient or Practitioner; returns "Type/id". */
export async function createProfile(tx: Queryable, db: Database, p: Profile): Promise<string> {
  const row: UserRow = {
    line: 0, email: p.email, password: '', fullName: p.fullName, phone: p.phone, role: p.role,
    medicareNumber: p.medicareNumber ?? '', providerNumber: p.providerNumber ?? '', expertise: '', secondFactor: null,
  };
  const resource = p.role === 'patient' ? patientOf(row) : practitionerOf(row);
  const { stored } = await repoOn(tx, db).create(resource);
  return `${stored.type}/${stored.id}`;
}

export async function updateProfile(tx: Queryable, db: Database, fhirUser: string, p: { fullName: string; phone: string; email: string }): Promise<void> {
  const [type, id] = fhirUser.split('/');
  const repo = repoOn(tx, db);
  const current = await repo.readResource<Patient | Practitioner>(type, id);
  const parts = p.fullName.split(/\s+/);
  const family = parts.length > 1 ? parts.pop() : undefined;
  const name = [{ use: 'official' as const, text: p.fullName, family, given: parts.length ? parts : undefined }, ...(current.name ?? []).slice(1)];
  const others = (current.telecom ?? []).filter((t) => t.system !== 'phone' && t.system !== 'email');
  const telecom = [{ system: 'email' as const, value: p.email }, ...(p.phone ? [{ system: 'phone' as const, value: p.phone }] : []), ...others];
  await repo.update({ ...current, name, telecom });
}
