/**
 * Validation of big batches (transaction Bundles, bulk loads) on worker threads. Validating a
 * resource against the R4 definitions is the largest single cost of an ingest (about a third of
 * the server's time on Synthea bundles) and needs nothing but the resource and the definitions,
 * so chunks of a batch are validated in parallel while the main thread goes on serving. Small
 * writes are validated in place: handing one resource to a thread costs more than it saves.
 */
import { availableParallelism } from 'node:os';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { Piscina } from 'piscina';
import { log } from '../log.ts';
import { validationErrors } from './validate.ts';

/** Batches smaller than this are validated on the calling thread. */
export const POOL_MIN_BATCH = 32;
/**
 * Threads (VALIDATION_THREADS; 0 validates everything in place). Each holds its own copy of the
 * definitions (about 300 MB) and lets it go after a minute without batches. One per core by
 * default: measured on a 2-core machine, one thread gave no gain and two gave 10-15%.
 */
let threadCount = availableParallelism();

export function configureValidationThreads(threads: number): void {
  threadCount = threads;
}

/** Resources per task: big enough that copying to the thread is a small part of the work. */
const CHUNK = 25;

let pool: Piscina | undefined;
let poolFailed = false;
let tasksRun = 0;

function validationPool(): Piscina | undefined {
  if (!pool && !poolFailed) {
    pool = new Piscina({
      filename: new URL('./validate-worker.ts', import.meta.url).href,
      minThreads: 0,
      maxThreads: threadCount,
      // Loading the definitions takes a thread about a second: keep it while batches come.
      idleTimeout: 60_000,
    });
  }
  return pool;
}

/**
 * The validation errors of each resource (empty for a valid one), in order. `json` holds each
 * resource as JSON text: a thread is sent the text (a plain copy) rather than the object (a
 * structured clone, several times dearer). Big batches go to the worker threads; should those
 * fail to start, validation happens here, as for small ones.
 */
export async function validateBatch(resources: Resource[], json: string[]): Promise<OperationOutcomeIssue[][]> {
  const threads = resources.length >= POOL_MIN_BATCH && threadCount > 0 ? validationPool() : undefined;
  if (!threads) return resources.map(validationErrors);
  const chunks: string[][] = [];
  for (let i = 0; i < json.length; i += CHUNK) chunks.push(json.slice(i, i + CHUNK));
  try {
    const results = await Promise.all(chunks.map((chunk) => threads.run(chunk) as Promise<OperationOutcomeIssue[][]>));
    tasksRun += chunks.length;
    return results.flat();
  } catch (err) {
    log.warn('validation threads failed; validating in the main thread from now on', { error: (err as Error).message });
    poolFailed = true;
    pool = undefined;
    void threads.destroy();
    return resources.map(validationErrors);
  }
}

/** How many chunks the threads have validated since the process started (for tests). */
export function validationTasksRun(): number {
  return tasksRun;
}

/** Stops the validation threads (at shutdown; a later batch starts them again). */
export async function closeValidationPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
