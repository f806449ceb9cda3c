/**
 * What the server said when it refused a request: MedplumClient throws an OperationOutcomeError
 * carrying the server's OperationOutcome, whose issue texts every app shows as they are (the
 * server decides every rule); anything else (a network failure) by its own message.
 */
import { normalizeErrorString } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

export function serverMessage(error: unknown): string {
  const outcome = (error as { outcome?: OperationOutcome }).outcome;
  const texts = (outcome?.issue ?? []).map((i) => i.details?.text || i.diagnostics).filter((t): t is string => !!t);
  return texts.length ? texts.join('; ') : normalizeErrorString(error);
}
