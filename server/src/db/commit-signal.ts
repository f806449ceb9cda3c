/**
 * In-process signal that resource versions were committed (each with its outbox event), so the
 * outbox dispatcher in the same process wakes at once instead of waiting for its next poll.
 *
 * Why not NOTIFY from a trigger: every transaction that NOTIFYs takes PostgreSQL's global
 * notification-queue lock at commit, which serialised all writers (measured: 282 creates/s with
 * the trigger against 647 without, 10 concurrent writers). Writers in other processes (a second
 * server, the import CLI) are picked up by the dispatcher's poll.
 */
type Listener = () => void;
const listeners = new Set<Listener>();

export function onVersionsCommitted(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function versionsCommitted(): void {
  for (const listener of listeners) listener();
}
