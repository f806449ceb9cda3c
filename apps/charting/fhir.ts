/**
 * Small FHIR helpers for the charting screens: display names, and a loader hook for searches
 * that can be re-run after a write (a refusal comes back in the server's own words).
 */
import type { HumanName } from '@medplum/fhirtypes';
import { serverMessage } from '../shared/server-message.ts';
import { useCallback, useEffect, useState } from 'react';

/** "Jane Citizen" from a resource's first name (its text, else given + family). */
export function displayName(names: HumanName[] | undefined): string {
  const name = names?.[0];
  if (!name) return 'Unnamed';
  return name.text || [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') || 'Unnamed';
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `reload` is called; keeps the server's message on failure. */
export function useLoaded<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  // `load` is a new function on every render; `deps` say when it really asks for something else.
  const run = useCallback(load, deps);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => current && setState({ data, loading: false }),
      (err: unknown) => current && setState({ error: serverMessage(err), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [run, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** A date-time as the clinician's browser shows it. */
export function formatDateTime(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'no date';
}
