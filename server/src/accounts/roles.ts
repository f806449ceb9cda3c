/** The roles of CONTRACT "Accounts and import", and which of them are providers. */
export const ROLES = [
  'patient', 'gp', 'specialist', 'nurse', 'head-nurse', 'pharmacist', 'physiotherapist',
  'pathologist', 'radiographer', 'receptionist', 'hr', 'admin',
] as const;

export type Role = (typeof ROLES)[number];

/** Roles whose users are health-care providers (Practitioner + PractitionerRole per centre). */
export const PROVIDER_ROLES: ReadonlySet<Role> = new Set([
  'gp', 'specialist', 'nurse', 'head-nurse', 'pharmacist', 'physiotherapist', 'pathologist', 'radiographer',
]);

/** Staff without a clinical profession: still a Practitioner (the fhirUser), but no PractitionerRole. */
export const STAFF_ROLES: ReadonlySet<Role> = new Set(['receptionist', 'hr', 'admin']);

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
