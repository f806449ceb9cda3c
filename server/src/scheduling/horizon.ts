/**
 * The rolling horizon: once at start and then daily, every PractitionerRole's slots are extended
 * to 8 weeks ahead (and brought in line with its hours). Idempotent and safe with several
 * servers: each role is regenerated under its own advisory lock.
 */
import type { PractitionerRole } from '@medplum/fhirtypes';
import type { Database } from '../db/database.ts';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { log } from '../log.ts';
import { regenerateSlots } from './slots.ts';

export async function extendHorizon(db: Database, now = Date.now()): Promise<{ roles: number; created: number; removed: number }> {
  const { rows } = await db.query<{ content: string }>(`SELECT content FROM resource WHERE type = 'PractitionerRole' AND NOT deleted`);
  const root = new FhirRepository(systemContext(), db, { referentialIntegrity: true });
  const out = { roles: 0, created: 0, removed: 0 };
  for (const row of rows) {
    const role = JSON.parse(row.content) as PractitionerRole;
    if (!role.availableTime?.length) continue;
    const r = await root.withTransaction((repo) => regenerateSlots(repo, role, now));
    out.roles++;
    out.created += r.created;
    out.removed += r.removed;
  }
  return out;
}

/** Runs extendHorizon now and every 24 hours; returns a function that stops the timer. */
export function startSlotHorizon(db: Database, everyMs = 86_400_000): () => void {
  const run = () => extendHorizon(db).then(
    (r) => log.info('slot horizon extended', r),
    (err: Error) => log.warn('slot horizon extension failed', { error: err.message }),
  );
  void run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
