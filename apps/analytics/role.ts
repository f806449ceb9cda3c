/**
 * Which signed-in users get clinic-wide numbers. The server decides what each role sees; this
 * only avoids showing numbers the server would silently narrow (a patient sees their own
 * appointments, a provider only their own patients'), which would look like clinic totals.
 */
import { parseJWTPayload } from '@medplum/core';

/** Roles whose token sees every appointment and patient of the clinic (server role policy). */
const CLINIC_WIDE_ROLES = new Set(['admin', 'receptionist']);
/** Roles the server refuses outright; we ask anyway so the user reads the server's own reason. */
const REFUSED_BY_SERVER_ROLES = new Set(['hr']);

/** The `role` claim of our access token (a JWT, read but not verified: the server verifies it). */
export function roleOf(accessToken: string): string | undefined {
  try {
    const role = parseJWTPayload(accessToken).role;
    return typeof role === 'string' ? role : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the dashboard should query the server for this role. */
export function mayQueryClinicWide(role: string | undefined): boolean {
  return role !== undefined && (CLINIC_WIDE_ROLES.has(role) || REFUSED_BY_SERVER_ROLES.has(role));
}
