/** The whole import: validate every row, then (only if all are good) load. */
import type { Database } from '../db/database.ts';
import type { Problem } from './csv.ts';
import { loadImport, type ImportCounts } from './load.ts';
import { silentProgress, type Progress } from './progress.ts';
import { validateImport } from './validate.ts';

export type ImportOutcome = { ok: true; counts: ImportCounts } | { ok: false; problems: Problem[] };

export async function runImport(db: Database, dir: string, progress: Progress = silentProgress): Promise<ImportOutcome> {
  const result = validateImport(dir);
  if (!result.ok) return result;
  return { ok: true, counts: await loadImport(db, result.plan, progress) };
}

export function formatProblem(p: Problem): string {
  return p.line ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}
