/** Referential integrity of writes: local references must point at stored, not deleted resources. */
import type { Queryable } from '../../db/database.ts';
import { outcome, OperationOutcomeError } from '../outcomes.ts';
import type { LocalReference } from '../references.ts';

/** 422 unless every local reference points at an existing, not deleted resource. */
export async function assertReferencesExist(db: Queryable, references: LocalReference[]): Promise<void> {
  const unique = new Map(references.map((r) => [`${r.type}/${r.id}`, r]));
  const list = [...unique.values()];
  const { rows } = await db.query<{ type: string; id: string }>(
    `SELECT r.type, r.id FROM resource r
       JOIN unnest($1::text[], $2::text[]) AS u(type, id) ON r.type = u.type AND r.id = u.id
      WHERE NOT r.deleted`,
    [list.map((r) => r.type), list.map((r) => r.id)],
    'fhir_references_exist',
  );
  const found = new Set(rows.map((r) => `${r.type}/${r.id}`));
  const missing = [...unique.keys()].filter((k) => !found.has(k));
  if (missing.length) {
    throw new OperationOutcomeError(
      outcome('error', 'processing', `Reference${missing.length > 1 ? 's' : ''} to missing resource${missing.length > 1 ? 's' : ''}: ${missing.slice(0, 10).join(', ')}`),
      422,
    );
  }
}
