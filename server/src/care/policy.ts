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
 * - a Binary with a securityContext is visible exactly when the record it names is;
 * - AuditEvents can never be changed or deleted.
 * Everything compiles to SQL predicates, so counts, includes, chains and _has leak nothing.
 */
import type { Binary, Resource } from '@medplum/fhirtypes';
import type { Caller } from '../context.ts';
import type { Queryable } from '../db/database.ts';
import type { AccessPolicy, Interaction } from '../access/policy.ts';
import { getResourceTypes, isResourceType, patientCompartmentParamsOf } from '../fhir/definitions.ts';
import { forbidden, notFound } from '../fhir/outcomes.ts';
import { SqlParams } from '../fhir/search/sql-params.ts';
import { extractIndexRows } from '../fhir/search/extract.ts';
import { visibleSql } from '../fhir/search/filters.ts';
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
    if (type === 'Binary') return this.binaryCondition(alias, params);
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

  /**
   * A Binary belongs to no compartment of its own; one that names a `securityContext` (the
   * DocumentReference or Patient it is part of) is visible exactly when that resource is, so a
   * file is as private as the record it belongs to. One that names none stays as visible as the
   * caller's scopes and role make it. A securityContext we cannot resolve hides the Binary.
   */
  private binaryCondition(alias: string, params: SqlParams): string | undefined {
    const target = `${alias}_sc`;
    // The record may be of any type: the usual per-type visibility, as for system search.
    const types = getResourceTypes().filter((t) => t !== 'Binary');
    const visible = visibleSql(types, target, { params, access: this, aliases: 0 });
    if (!visible) return undefined;
    const ref = `(${alias}.content::jsonb -> 'securityContext' ->> 'reference')`;
    return `(${ref} IS NULL OR EXISTS (SELECT 1 FROM resource ${target}
      WHERE ${target}.type = split_part(${ref}, '/', 1) AND ${target}.id = split_part(${ref}, '/', 2) AND NOT ${target}.deleted
        AND ${visible}))`;
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
    if (type === 'Binary' && next) await this.checkSecurityContext(next as Binary, q);
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

  /** A Binary may only be tied to a record the caller can see (answered like a missing one). */
  private async checkSecurityContext(binary: Binary, q: Queryable): Promise<void> {
    const ref = binary.securityContext?.reference;
    if (!ref) return;
    const [type, id, ...rest] = ref.split('/');
    const params = new SqlParams();
    const typeParam = params.add(type);
    const idParam = params.add(id);
    const visible = isResourceType(type) && !rest.length ? this.visibleRows(type, 'r', params) : 'FALSE';
    const { rowCount } = await q.query(
      `SELECT 1 FROM resource r WHERE r.type = ${typeParam} AND r.id = ${idParam} AND NOT r.deleted${visible ? ` AND (${visible})` : ''}`,
      params.values,
    );
    if (rowCount === 0) throw notFound(`${ref} not found`);
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
