/**
 * Small FHIR helpers for the charting screens: display names, the server's words when it
 * refuses a request, and a loader hook for searches that can be re-run after a write.
 */
import { normalizeErrorString } from '@medplum/core';
import type { HumanName, OperationOutcome } from '@medplum/fhirtypes';
import { useCallback, useEffect, useState } from 'react';

/** "Jane Citizen" from a resource's first name (its text, else given + family). */
export function displayName(names: HumanName[] | undefined): string {
  const name = names?.[0];
  if (!name) return 'Unnamed';
  return name.text || [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') || 'Unnamed';
}

/**
 * What the server said when it refused a request: MedplumClient throws an OperationOutcomeError
 * carrying the server's OperationOutcome, whose issue texts we show as they are.
 */
export function serverMessage(error: unknown): string {
  const outcome = (error as { outcome?: OperationOutcome }).outcome;
  const texts = (outcome?.issue ?? []).map((i) => i.details?.text ?? i.diagnostics).filter((t): t is string => !!t);
  return texts.length ? texts.join('; ') : normalizeErrorString(error);
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
