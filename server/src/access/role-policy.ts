/**
 * The role-policy table: the most each role may do, per resource type, whatever scopes its
 * token carries. `user/` and `patient/` scopes are intersected with this; `system/` scopes
 * (backend services) are not, since they have no user. Rows are permission letters (SMART v2:
 * c create, r read, u update, d delete, s search); `*` is every type not listed.
 *
 * | role                                   | directory | Patient | Appointment | clinical | other          |
 * | -------------------------------------- | --------- | ------- | ----------- | -------- | -------------- |
 * | patient (own compartment only)         | rs        | rus     | crus        | rs       | Basic crs (ratings) |
 * | gp, specialist, nurse, head-nurse,     | rs        | crus    | crus        | crus     | —              |
 * |   physiotherapist, pathologist, radiographer                                                   |
 * | pharmacist                             | rs        | rs      | rs          | rs; medication types crus |
 * | receptionist                           | rs; Schedule, Slot crus | crus | crus | Encounter crus | — |
 * | hr                                     | cruds     | —       | —           | —        | —              |
 * | admin                                  | cruds     | cruds   | cruds       | cruds    | cruds          |
 *
 * Directory types are also readable by any patient or user token (CONTRACT); CARE narrows
 * clinical access further (provider–patient relationships, authorship).
 */
import type { Role } from '../accounts/roles.ts';
import type { Permission } from './scopes.ts';

export const DIRECTORY_TYPES: ReadonlySet<string> = new Set([
  'Organization', 'Location', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Schedule', 'Slot',
]);

/** Types that are neither directory nor patient-clinical: none of the clinical roles get them by default. */
const ADMINISTRATIVE_TYPES = new Set([
  'AuditEvent', 'Subscription', 'StructureDefinition', 'SearchParameter', 'OperationDefinition', 'CapabilityStatement',
  'Bot', 'ClientApplication', 'Endpoint',
]);

const MEDICATION_TYPES = ['Medication', 'MedicationRequest', 'MedicationDispense', 'MedicationAdministration', 'MedicationStatement', 'SupplyRequest', 'SupplyDelivery'];

export interface RolePolicy {
  /** Letters per type; `*` covers clinical types not listed. */
  types: Record<string, string>;
  /** Patients see only their own compartment (outside the directory). */
  ownCompartmentOnly?: boolean;
}

const directory = (letters: string) => Object.fromEntries([...DIRECTORY_TYPES].map((t) => [t, letters]));
const clinician: RolePolicy = { types: { ...directory('rs'), Patient: 'crus', Appointment: 'crus', '*': 'crus' } };

export const ROLE_POLICIES: Record<Role, RolePolicy> = {
  patient: {
    ownCompartmentOnly: true,
    types: {
      ...directory('rs'), Patient: 'rus', Appointment: 'crus', QuestionnaireResponse: 'crus', Communication: 'crs',
      DocumentReference: 'crs', '*': 'rs',
      // SCHED: ratings are Basic resources the patient authors (own compartment via Basic.author).
      Basic: 'crs',
      // CARE: patients see who accessed their record and revoke providers' access (Consent status).
      AuditEvent: 'rs', Consent: 'rus',
    },
  },
  gp: clinician,
  specialist: clinician,
  nurse: clinician,
  'head-nurse': clinician,
  physiotherapist: clinician,
  pathologist: clinician,
  radiographer: clinician,
  pharmacist: { types: { ...directory('rs'), ...Object.fromEntries(MEDICATION_TYPES.map((t) => [t, 'crus'])), '*': 'rs' } },
  receptionist: {
    types: { ...directory('rs'), Schedule: 'crus', Slot: 'crus', Patient: 'crus', Appointment: 'crus', Encounter: 'crus' },
  },
  hr: { types: directory('cruds') },
  admin: { types: { '*': 'cruds' } },
};

/** What `role` may do on `type` at most. */
export function rolePermissions(role: Role, type: string): Set<Permission> {
  const policy = ROLE_POLICIES[role];
  const letters = policy.types[type] ?? (ADMINISTRATIVE_TYPES.has(type) && role !== 'admin' ? '' : policy.types['*'] ?? '');
  return new Set(letters.split('') as Permission[]);
}
