/**
 * CARE rules layered over the token's policy (scopes ∩ role):
 * - a provider sees a patient's history (the Patient compartment) only while a care grant exists
 *   (an appointment with the patient, or break-glass), at every centre; searches silently leave
 *   the rest out and reads answer 404, the same as for records that do not exist;
 * - a provider adds to the history only for granted patients, and changes or deletes only
 *   entries they wrote themselves (403 otherwise);
 * - pharmacists see demographics and medication records, not other clinical entries;
 * - admins manage demographics, appointments, consents and audit, not clinical entries (they
 *   neither see nor write them);
 * - directory rows outside every patient compartment (practitioners' Schedules) stay visible;
 * - AuditEvents can never be changed or deleted.
 * Everything compiles to SQL predicates, so counts, includes, chains and _has leak nothing.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Caller } from '../context.ts';
import type { Queryable } from '../db/database.ts';
import type { AccessPolicy, Interaction } from '../access/policy.ts';
import { patientCompartmentParamsOf } from '../fhir/definitions.ts';
import { forbidden, notFound } from '../fhir/outcomes.ts';
import type { SqlParams } from '../fhir/search/sql-params.ts';
import { extractIndexRows } from '../fhir/search/extract.ts';
import { DIRECTORY_TYPES, ROLE_POLICIES, type RolePolicy } from '../access/role-policy.ts';
import { grantedRowSql, hasGrant } from './grants.ts';
import { VideoLinkFilter } from './video-links.ts';
import type { StoredVersion } from '../fhir/repo/repository.ts';

/** Roles bound by the care relationship (provider–patient grants and authorship). */
export const TREATING_ROLES = new Set(['gp', 'specialist', 'nurse', 'head-nurse', 'physiotherapist', 'pathologist', 'radiographer']);

/** Compartment types that are administration rather than clinical history. */
const NON_CLINICAL = new Set(['Patient', 'Appointment', 'AppointmentResponse', 'Consent', 'AuditEvent', 'Communication', 'CommunicationRequest', 'Account', 'Coverage', 'Invoice', 'ChargeItem', 'Schedule', 'Slot']);
const MEDICATION_TYPES = new Set(['Medication', 'MedicationRequest', 'MedicationDispense', 'MedicationAdministration', 'MedicationStatement']);
/** What admins keep of the compartment types. */
const ADMIN_VISIBLE = new Set(['Patient', 'Appointment', 'AppointmentResponse', 'Consent', 'AuditEvent', 'Communication', 'Account', 'Invoice', 'ChargeItem', 'Coverage']);

/** Types whose rows belong to patient compartments (the Patient itself included). */
export function isCompartmentType(type: string): boolean {
  return type === 'Patient' || patientCompartmentParamsOf(type).length > 0;
}

export class CarePolicy implements AccessPolicy {
  private readonly base: AccessPolicy;
  private readonly caller: Caller;
  /** The caller's Practitioner id, for treating roles. */
  private readonly practitionerId: string | undefined;
  private readonly grantCache = new Map<string, boolean>();
  private readonly videoLinks: VideoLinkFilter;

  constructor(base: AccessPolicy, caller: Caller) {
    this.base = base;
    this.caller = caller;
    const m = /^Practitioner\/([^/]+)$/.exec(caller.fhirUser ?? '');
    this.practitionerId = caller.role && TREATING_ROLES.has(caller.role) ? (m?.[1] ?? '') : undefined;
    this.videoLinks = new VideoLinkFilter(caller);
  }

  /** Video room links only for the appointment's participants (and the base policy's own rule). */
  async redact(versions: StoredVersion[], q: Queryable): Promise<StoredVersion[]> {
    const base = this.base.redact ? await this.base.redact(versions, q) : versions;
    return this.videoLinks.apply(base, q);
  }

  checkInteraction(type: string | undefined, interaction: Interaction): void {
    if (type === 'AuditEvent' && (interaction === 'update' || interaction === 'patch' || interaction === 'delete')) {
      throw forbidden('AuditEvents cannot be changed or deleted');
    }
    this.base.checkInteraction(type, interaction);
  }

  visibleRows(type: string, alias: string, params: SqlParams): string | undefined {
    const base = this.base.visibleRows(type, alias, params);
    const care = this.careCondition(type, alias, params);
    if (!care) return base;
    return base ? `(${base}) AND ${care}` : care;
  }

  private careCondition(type: string, alias: string, params: SqlParams): string | undefined {
    if (!isCompartmentType(type)) return undefined;
    const cond = this.roleCondition(type, alias, params);
    if (cond && DIRECTORY_TYPES.has(type)) {
      // Directory rows outside every patient compartment (a practitioner's Schedule) stay
      // readable by any user (CONTRACT); rows in a patient's compartment follow the rules.
      const open = `${alias}.compartments = '{}'::text[]`;
      return cond === 'FALSE' ? open : `(${open} OR ${cond})`;
    }
    return cond;
  }

  /** Whether CARE hides every row of `type` from this caller's role (no clinical notes for admins…). */
  private hidesType(type: string): boolean {
    const role = this.caller.role;
    if (this.practitionerId !== undefined || !isCompartmentType(type) || DIRECTORY_TYPES.has(type)) return false;
    if (role === 'pharmacist') return type !== 'Patient' && !MEDICATION_TYPES.has(type);
    if (role === 'admin' || role === 'hr' || role === 'receptionist') return !ADMIN_VISIBLE.has(type);
    return false;
  }

  private roleCondition(type: string, alias: string, params: SqlParams): string | undefined {
    const role = this.caller.role;
    if (this.practitionerId !== undefined) {
      return grantedRowSql(alias, params.add(this.practitionerId));
    }
    if (role === 'pharmacist') return type === 'Patient' || MEDICATION_TYPES.has(type) ? undefined : 'FALSE';
    if (role === 'admin' || role === 'hr' || role === 'receptionist') return ADMIN_VISIBLE.has(type) ? undefined : 'FALSE';
    return undefined;
  }

  async checkWrite(type: string, next: Resource | undefined, previous: Resource | undefined, q: Queryable): Promise<void> {
    await this.base.checkWrite(type, next, previous, q);
    // A role that may not see a type's records may not write them either, unless its row of the
    // role-policy table names the type (a receptionist's check-in Encounter); `*` rows do not.
    const role = this.caller.role;
    if (role && this.hidesType(type) && (ROLE_POLICIES as Record<string, RolePolicy | undefined>)[role]?.types[type] === undefined) {
      throw forbidden(`Your role does not write ${type} records`);
    }
    if (this.practitionerId === undefined || !isCompartmentType(type)) return;
    // Adding to a history needs a grant for every patient the entry belongs to; an ungranted
    // patient is answered like a missing one, so refusals reveal nothing.
    if (next) {
      for (const compartment of extractIndexRows(next).compartments) {
        const patientId = compartment.slice('Patient/'.length);
        if (!(await this.granted(q, patientId))) throw notFound(`${compartment} not found`);
      }
    }
    if (previous && !NON_CLINICAL.has(type)) {
      const author = await this.authorOf(q, type, previous.id as string);
      if (author !== this.caller.fhirUser) {
        throw forbidden(`Only the author of this ${type} may change or delete it`);
      }
    }
  }

  private async granted(q: Queryable, patientId: string): Promise<boolean> {
    let ok = this.grantCache.get(patientId);
    if (ok === undefined) {
      ok = this.practitionerId ? await hasGrant(q, patientId, this.practitionerId) : false;
      this.grantCache.set(patientId, ok);
    }
    return ok;
  }

  /** Who wrote the first version of a resource (its author for authorship rules). */
  private async authorOf(q: Queryable, type: string, id: string): Promise<string | undefined> {
    const { rows } = await q.query<{ author: string | null }>(
      'SELECT author FROM resource_history WHERE type = $1 AND id = $2 AND version = 1',
      [type, id],
      'care_author_of',
    );
    return rows[0]?.author ?? undefined;
  }
}
