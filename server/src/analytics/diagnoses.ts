/**
 * Diagnosis counts for managers: how often each diagnosis (Condition.code) was recorded per
 * month, over all patients, without saying who. Condition records are clinical and hidden from
 * managers (care rules), so this aggregate is the only view they get of them, and it is
 * de-identified: a diagnosis seen in fewer than MIN_PATIENTS patients is not named, only folded
 * into one "suppressed" total (a rare diagnosis at a small clinic could point at a person).
 */
import type { CodeableConcept } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.ts';

/** Diagnoses seen in fewer patients than this are counted but not named. */
export const MIN_PATIENTS = 3;

export interface DiagnosisCount {
  /** The first coding (system and code), else the text, identifies a diagnosis. */
  system?: string;
  code?: string;
  display: string;
  count: number;
  patients: number;
  /** "YYYY-MM" → count. */
  months: Map<string, number>;
}

export interface DiagnosisCounts {
  diagnoses: DiagnosisCount[];
  /** Conditions (and distinct diagnoses) left unnamed for having too few patients. */
  suppressed: { count: number; diagnoses: number };
}

export interface DiagnosisQuery {
  /** First day counted ("YYYY-MM-DD"). */
  from: string;
  /** First day no longer counted ("YYYY-MM-DD"). */
  to: string;
  /** Only visits at this Location (Condition → its Encounter → the Encounter's Appointment). */
  location?: string;
}

// When a Condition was recorded: recordedDate, else its onset.
const WHEN = `coalesce(c->>'recordedDate', c->>'onsetDateTime', c->'onsetPeriod'->>'start')`;

export async function diagnosisCounts(db: Queryable, q: DiagnosisQuery): Promise<DiagnosisCounts> {
  const params: unknown[] = [q.from, q.to];
  let atLocation = '';
  if (q.location) {
    params.push(q.location);
    atLocation = `AND EXISTS (
      SELECT 1 FROM idx_reference e
        JOIN idx_reference a ON a.res_type = 'Encounter' AND a.res_id = e.target_id AND a.param = 'appointment'
        JOIN idx_reference l ON l.res_type = 'Appointment' AND l.res_id = a.target_id AND l.param = 'actor'
       WHERE e.res_type = 'Condition' AND e.res_id = r.id AND e.param = 'encounter' AND e.target_type = 'Encounter'
         AND a.target_type = 'Appointment' AND l.target_type = 'Location' AND l.target_id = $3)`;
  }
  const { rows } = await db.query<{ code: CodeableConcept | null; subject: string | null; month: string }>(
    `SELECT c->'code' AS code, c->'subject'->>'reference' AS subject, left(${WHEN}, 7) AS month
       FROM resource r CROSS JOIN LATERAL (SELECT r.content::jsonb AS c) j
      WHERE r.type = 'Condition' AND NOT r.deleted
        AND ${WHEN} >= $1 AND ${WHEN} < $2
        AND coalesce(c->'verificationStatus'->'coding'->0->>'code', '') <> 'entered-in-error'
        ${atLocation}`,
    params,
  );
  const byKey = new Map<string, DiagnosisCount & { subjects: Set<string>; named: boolean }>();
  for (const row of rows) {
    const coding = row.code?.coding?.find((c) => c.code);
    const text = (row.code?.text ?? coding?.display ?? '').trim();
    if (!coding && !text) continue; // nothing to name it by
    const key = coding ? `${coding.system ?? ''}|${coding.code}` : `text:${text.toLowerCase().replace(/\s+/g, ' ')}`;
    let d = byKey.get(key);
    if (!d) {
      d = { system: coding?.system, code: coding?.code, display: text || (coding?.code as string), count: 0, patients: 0, months: new Map(), subjects: new Set(), named: false };
      byKey.set(key, d);
    }
    // A coding's own display names the diagnosis best, whichever record carries it.
    if (coding?.display && !d.named) {
      d.display = coding.display;
      d.named = true;
    }
    d.count++;
    if (row.subject) d.subjects.add(row.subject);
    d.months.set(row.month, (d.months.get(row.month) ?? 0) + 1);
  }
  const diagnoses: DiagnosisCount[] = [];
  const suppressed = { count: 0, diagnoses: 0 };
  for (const { subjects, named: _named, ...d } of byKey.values()) {
    d.patients = subjects.size;
    if (d.patients >= MIN_PATIENTS) diagnoses.push(d);
    else {
      suppressed.count += d.count;
      suppressed.diagnoses++;
    }
  }
  diagnoses.sort((a, b) => b.count - a.count || a.display.localeCompare(b.display));
  return { diagnoses, suppressed };
}
