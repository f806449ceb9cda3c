/**
 * Import rows → FHIR resources. Each resource carries an identifier that names it across runs,
 * which is how a second import finds (and leaves alone) what the first one created.
 */
import type { Location, Organization, Patient, Practitioner, PractitionerRole, Reference } from '@medplum/fhirtypes';
import type { CentreRow, HoursRow, UserRow } from './validate.ts';

export const SYSTEMS = {
  centre: 'urn:clinic:centre',
  account: 'urn:clinic:account-email',
  practitionerRole: 'urn:clinic:practitioner-role',
  medicare: 'http://ns.electronichealth.net.au/id/medicare-number',
  providerNumber: 'http://ns.electronichealth.net.au/id/medicare-provider-number',
  /** PractitionerRole.code: the CSV role as the code (`PractitionerRole?role=gp`). */
  role: 'urn:clinic:provider-role',
} as const;

export const centreKey = (name: string) => name.trim().toLowerCase().replace(/\s+/g, ' ');
export const emailKey = (email: string) => email.trim().toLowerCase();

function humanName(full: string): Practitioner['name'] {
  const parts = full.trim().split(/\s+/);
  const family = parts.length > 1 ? parts.pop() : undefined;
  return [{ use: 'official', text: full.trim(), family, given: parts.length ? parts : undefined }];
}

function telecom(email: string, phone: string): Practitioner['telecom'] {
  const out: NonNullable<Practitioner['telecom']> = [{ system: 'email', value: email.trim() }];
  if (phone) out.push({ system: 'phone', value: phone });
  return out;
}

export function organizationOf(c: CentreRow): Organization {
  return {
    resourceType: 'Organization',
    identifier: [{ system: SYSTEMS.centre, value: centreKey(c.name) }],
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }], text: c.type }],
    name: c.name,
    telecom: c.phone ? [{ system: 'phone', value: c.phone }] : undefined,
    address: [{ text: [c.address, c.suburb].filter(Boolean).join(', '), line: c.address ? [c.address] : undefined, city: c.suburb, country: 'AU' }],
  };
}

export function locationOf(c: CentreRow, organization: Reference): Location {
  return {
    resourceType: 'Location',
    identifier: [{ system: SYSTEMS.centre, value: centreKey(c.name) }],
    status: 'active',
    mode: 'instance',
    name: c.name,
    type: [{ text: c.type }],
    telecom: c.phone ? [{ system: 'phone', value: c.phone }] : undefined,
    address: { text: [c.address, c.suburb].filter(Boolean).join(', '), line: c.address ? [c.address] : undefined, city: c.suburb, country: 'AU' },
    managingOrganization: organization as Reference<Organization>,
  };
}

export function patientOf(u: UserRow): Patient {
  return {
    resourceType: 'Patient',
    identifier: [
      { system: SYSTEMS.medicare, value: u.medicareNumber, type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MC' }], text: 'Medicare number' } },
      { system: SYSTEMS.account, value: emailKey(u.email) },
    ],
    active: true,
    name: humanName(u.fullName),
    telecom: telecom(u.email, u.phone),
  };
}

export function practitionerOf(u: UserRow): Practitioner {
  const identifier: NonNullable<Practitioner['identifier']> = [{ system: SYSTEMS.account, value: emailKey(u.email) }];
  if (u.providerNumber) identifier.unshift({ system: SYSTEMS.providerNumber, value: u.providerNumber });
  return { resourceType: 'Practitioner', identifier, active: true, name: humanName(u.fullName), telecom: telecom(u.email, u.phone) };
}

/** One PractitionerRole per provider and centre, with every hours row of that pair. */
export function practitionerRoleOf(u: UserRow, centreName: string, hours: HoursRow[], refs: { practitioner: Reference; organization: Reference; location: Reference }): PractitionerRole {
  return {
    resourceType: 'PractitionerRole',
    identifier: [{ system: SYSTEMS.practitionerRole, value: `${emailKey(u.email)}|${centreKey(centreName)}` }],
    active: true,
    practitioner: refs.practitioner as Reference<Practitioner>,
    organization: refs.organization as Reference<Organization>,
    location: [refs.location as Reference<Location>],
    code: [{ coding: [{ system: SYSTEMS.role, code: u.role }], text: u.role }],
    specialty: u.expertise ? [{ text: u.expertise }] : undefined,
    telecom: telecom(u.email, u.phone),
    availableTime: hours.map((h) => ({ daysOfWeek: h.days, availableStartTime: h.start, availableEndTime: h.end })),
  };
}
