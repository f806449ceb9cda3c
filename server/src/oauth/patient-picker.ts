/**
 * Patients a clinician may pick in a standalone launch with launch/patient: searched by name
 * through the FHIR repository under the clinician's own access policy (user/Patient.rs ∩ role),
 * so the picker never shows a patient the clinician could not read anyway.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Database } from '../db/database.ts';
import type { Account } from '../accounts/store.ts';
import { SmartPolicy } from '../access/smart-policy.ts';
import { CarePolicy } from '../care/policy.ts';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { OperationOutcomeError } from '../fhir/outcomes.ts';

export async function pickerPatients(db: Database, account: Account, name: string, id?: string): Promise<{ id: string; label: string }[]> {
  // CARE narrows it further to the clinician's own patients (a care relationship).
  const caller = { subject: account.id, fhirUser: account.fhirUser ?? undefined, role: account.role, scopes: ['user/Patient.rs'] };
  const smart = new SmartPolicy({ scopes: caller.scopes, role: account.role, fhirUser: caller.fhirUser });
  const ctx = { ...systemContext(), caller, access: new CarePolicy(smart, caller) };
  const repo = new FhirRepository(ctx, db, { referentialIntegrity: true });
  const query: Record<string, string> = { _count: '20', _sort: 'name' };
  if (name.trim()) query.name = name.trim().slice(0, 100);
  if (id) query._id = id;
  try {
    const { matches } = await repo.search(parseSearch('Patient', query));
    return matches.map((m) => {
      const p = JSON.parse(m.content as string) as Patient;
      const n = p.name?.[0];
      const label = n?.text ?? [n?.given?.join(' '), n?.family].filter(Boolean).join(' ') ?? p.id;
      return { id: p.id as string, label: `${label || p.id}${p.birthDate ? ` (born ${p.birthDate})` : ''}` };
    });
  } catch (err) {
    if (err instanceof OperationOutcomeError) return []; // the role may not search patients at all
    throw err;
  }
}
