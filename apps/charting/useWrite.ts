/** Runs a write and keeps the server's refusal message (never pretends success). */
import { useState } from 'react';
import { serverMessage } from '../shared/server-message.ts';

export function useWrite() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  /** Resolves true when the server accepted the write. */
  async function run(write: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(undefined);
    try {
      await write();
      return true;
    } catch (err) {
      setError(serverMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}
