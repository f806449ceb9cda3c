/**
 * The care_grant table: which practitioner may currently see which patient. Rows mirror Consent
 * resources and are rewritten whenever a Consent is written (same transaction).
 */
import type { Consent } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.ts';
import { grantsOf, type GrantKind } from './consents.ts';

/** Replaces the grant rows of one Consent with what its new version grants. */
export async function syncGrants(db: Queryable, consentId: string, consent: Consent | undefined): Promise<void> {
  const rows = consent ? grantsOf(consent) : [];
  // Rows of practitioners no longer named go; the others are inserted or updated in place
  // (one statement cannot delete and re-insert the same key).
  await db.query(
    `WITH x AS (
       SELECT * FROM json_to_recordset($2::json)
         AS x(patient_id text, practitioner_id text, kind text, starts timestamptz, ends timestamptz, active boolean)),
     gone AS (DELETE FROM care_grant WHERE consent_id = $1 AND practitioner_id NOT IN (SELECT practitioner_id FROM x))
     INSERT INTO care_grant (consent_id, patient_id, practitioner_id, kind, starts, ends, active)
     SELECT $1, patient_id, practitioner_id, kind, starts, ends, active FROM x
     ON CONFLICT (consent_id, practitioner_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, kind = EXCLUDED.kind,
       starts = EXCLUDED.starts, ends = EXCLUDED.ends, active = EXCLUDED.active`,
    [consentId, JSON.stringify(rows.map((r) => ({ patient_id: r.patientId, practitioner_id: r.practitionerId, kind: r.kind, starts: r.starts, ends: r.ends, active: r.active })))],
    'care_sync_grants',
  );
}

/** Consent ids of the active grants of one kind between a patient and a practitioner. */
export async function activeGrantConsents(db: Queryable, patientId: string, practitionerId: string, kind: GrantKind): Promise<string[]> {
  const { rows } = await db.query<{ consent_id: string }>(
    `SELECT consent_id FROM care_grant
      WHERE patient_id = $1 AND practitioner_id = $2 AND kind = $3 AND active AND ends > now()`,
    [patientId, practitionerId, kind],
    'care_active_grants',
  );
  return rows.map((r) => r.consent_id);
}

/** Whether the practitioner may now see the patient's history (any active, current grant). */
export async function hasGrant(db: Queryable, patientId: string, practitionerId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM care_grant
      WHERE patient_id = $1 AND practitioner_id = $2 AND active AND starts <= now() AND ends > now() LIMIT 1`,
    [patientId, practitionerId],
    'care_has_grant',
  );
  return rows.length > 0;
}

/**
 * SQL condition (for access predicates) that a row of resource alias `alias` belongs to the
 * compartment of a patient the practitioner may see now. A correlated EXISTS: for each of the
 * row's compartments (one, usually) one probe of care_grant_practitioner (practitioner_id,
 * patient_id), so the cost per row does not grow with the practitioner's number of grants.
 * (It replaced `compartments && ARRAY(SELECT 'Patient/' || patient_id …)`, whose overlap test
 * compares every compartment with every grant: ~0.1 ms per row for a GP with 2,000 patients.)
 */
export function grantedRowSql(alias: string, practitionerParam: string): string {
  return `EXISTS (SELECT 1 FROM unnest(${alias}.compartments) AS care_c(compartment)
     JOIN care_grant care_g ON care_g.patient_id = substr(care_c.compartment, 9)
     WHERE care_c.compartment LIKE 'Patient/%' AND care_g.practitioner_id = ${practitionerParam}
       AND care_g.active AND care_g.starts <= now() AND care_g.ends > now())`;
}
