/** Code systems, extension URLs and status sets of the scheduling rules. */
export const CANONICAL_BASE = 'https://fhir.clinic.example';

/** Appointment.appointmentType: in person, video, phone, home visit. */
export const VISIT_TYPE_SYSTEM = 'urn:clinic:visit-type';
export const VISIT_TYPES = ['in-person', 'video', 'phone', 'home'] as const;

/** R5 Appointment.virtualService as an R4 cross-version extension. */
export const VIRTUAL_SERVICE_URL = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService';
/** On a $hold's Appointment: when the hold lapses. */
export const HOLD_EXPIRES_URL = `${CANONICAL_BASE}/StructureDefinition/hold-expires`;
/** On a PractitionerRole: the provider confirms bookings by hand (they arrive `proposed`). */
export const MANUAL_CONFIRMATION_URL = `${CANONICAL_BASE}/StructureDefinition/manual-confirmation`;

/** Statuses in which an appointment occupies its slots and its patient's time. */
export const OCCUPYING = new Set(['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled']);
/**
 * A proposed appointment with neither start nor slot is a request ("some time next week", in
 * requestedPeriod), which R4 allows: it holds no time and grants no access until a time is chosen.
 */
export function isTimelessRequest(a: { status?: string; start?: string; slot?: unknown[] }): boolean {
  return a.status === 'proposed' && !a.start && !a.slot?.length;
}

/** Statuses that wait in the provider's queue on the day. */
export const QUEUED = new Set(['arrived', 'checked-in']);

/** PractitionerRole.code system used by the import (`PractitionerRole?role=gp`). */
export const PROVIDER_ROLE_SYSTEM = 'urn:clinic:provider-role';
export const ACCOUNT_EMAIL_SYSTEM = 'urn:clinic:account-email';
