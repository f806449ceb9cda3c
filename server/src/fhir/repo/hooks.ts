/**
 * Write hooks: rules and side effects that must hold however a resource is written (POST, PUT,
 * PATCH, transaction entries, operations, the platform's own writes). The repository calls them
 * inside the write's database transaction, so whatever a hook writes commits or rolls back with
 * the resource. Scheduling (server/src/scheduling/register.ts) installs the booking rules here.
 *
 * - `beforeWrite(repo, next, previous)`: `next` is the version about to be stored (meta already
 *   stamped; undefined for a delete), `previous` the current one (undefined for a create). Throw
 *   an OperationOutcomeError to refuse; return a resource to store that instead of `next`.
 * - `afterWrite(repo, stored, previous)`: runs after the version row is written (same
 *   transaction); `stored` is undefined for a delete. `afterCreateMany` may batch it for bulk
 *   creates.
 *
 * `repo` is bound to the open transaction and carries the caller's context; use
 * `repo.asPlatform()` for writes the caller may not make directly (e.g. marking a Slot busy).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirRepository } from './repository.ts';

export interface WriteHook {
  /** A name for logs and tests. */
  name: string;
  /** Resource types the hook applies to. */
  types: readonly string[];
  beforeWrite?(repo: FhirRepository, next: Resource | undefined, previous: Resource | undefined): Promise<Resource | void> | Resource | void;
  afterWrite?(repo: FhirRepository, stored: Resource | undefined, previous: Resource | undefined): Promise<void> | void;
  /** Optional batch form of afterWrite for bulk creates (`createMany`); used instead of it when given. */
  afterCreateMany?(repo: FhirRepository, stored: Resource[]): Promise<void> | void;
}

const byType = new Map<string, WriteHook[]>();

/** Installs a hook (once per name: installing a name again replaces it). */
export function registerWriteHook(hook: WriteHook): void {
  for (const type of hook.types) {
    const list = (byType.get(type) ?? []).filter((h) => h.name !== hook.name);
    list.push(hook);
    byType.set(type, list);
  }
}

/** The hooks for a resource type, in registration order. */
export function writeHooksFor(type: string): readonly WriteHook[] {
  return byType.get(type) ?? [];
}

export function hasWriteHooks(type: string): boolean {
  return (byType.get(type)?.length ?? 0) > 0;
}

/** Whether any hook of the type runs after a write (and so needs the write's transaction). */
export function hasAfterWriteHooks(type: string): boolean {
  return writeHooksFor(type).some((hook) => hook.afterWrite || hook.afterCreateMany);
}

/** Runs the beforeWrite hooks in order; each sees the previous one's replacement. */
export async function runBeforeWrite(repo: FhirRepository, type: string, next: Resource | undefined, previous: Resource | undefined): Promise<Resource | undefined> {
  let current = next;
  for (const hook of writeHooksFor(type)) {
    if (!hook.beforeWrite) continue;
    const replaced = await hook.beforeWrite(repo, current, previous);
    if (replaced && current) current = replaced;
  }
  return current;
}

export async function runAfterWrite(repo: FhirRepository, type: string, stored: Resource | undefined, previous: Resource | undefined): Promise<void> {
  for (const hook of writeHooksFor(type)) await hook.afterWrite?.(repo, stored, previous);
}
