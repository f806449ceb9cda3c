/**
 * The whole error vocabulary of the FHIR API: one error type carrying an OperationOutcome, and
 * one table from issue codes to HTTP status codes.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

/** HTTP status for an OperationOutcome whose first issue has this code (when none is given). */
const STATUS_BY_CODE: Partial<Record<IssueCode, number>> = {
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  invariant: 400,
  security: 403,
  login: 401,
  unknown: 401,
  forbidden: 403,
  suppressed: 403,
  'not-found': 404,
  deleted: 410,
  'too-long': 413,
  'not-supported': 400,
  duplicate: 409,
  conflict: 409,
  'multiple-matches': 412,
  processing: 422,
  'business-rule': 422,
  'too-costly': 400,
  exception: 500,
  timeout: 503,
  transient: 503,
  informational: 200,
};

export function outcome(
  severity: OperationOutcomeIssue['severity'],
  code: IssueCode,
  text: string,
  expression?: string[],
): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression?.length) issue.expression = expression;
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** An error that is answered as an OperationOutcome with a definite HTTP status. */
export class OperationOutcomeError extends Error {
  readonly outcome: OperationOutcome;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(outcomeOrText: OperationOutcome, status?: number, headers: Record<string, string> = {}) {
    const text = outcomeOrText.issue?.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ') ?? 'error';
    super(text);
    this.name = 'OperationOutcomeError';
    this.outcome = outcomeOrText;
    this.status = status ?? statusForOutcome(outcomeOrText);
    this.headers = headers;
  }
}

export function statusForOutcome(oo: OperationOutcome): number {
  const code = oo.issue?.[0]?.code;
  return (code && STATUS_BY_CODE[code]) || 500;
}

// Shorthands for the errors the server raises most.
export const badRequest = (text: string, expression?: string[]) =>
  new OperationOutcomeError(outcome('error', 'invalid', text, expression), 400);
export const notFound = (text = 'Resource not found') => new OperationOutcomeError(outcome('error', 'not-found', text), 404);
export const gone = (text = 'Resource deleted') => new OperationOutcomeError(outcome('error', 'deleted', text), 410);
export const conflict = (text: string) => new OperationOutcomeError(outcome('error', 'conflict', text), 409);
export const preconditionFailed = (text: string) =>
  new OperationOutcomeError(outcome('error', 'conflict', text), 412);
export const multipleMatches = (text: string) =>
  new OperationOutcomeError(outcome('error', 'multiple-matches', text), 412);
export const unprocessable = (text: string, expression?: string[]) =>
  new OperationOutcomeError(outcome('error', 'processing', text, expression), 422);
export const forbidden = (text = 'Forbidden') => new OperationOutcomeError(outcome('error', 'forbidden', text), 403);
export const notSupported = (text: string) => new OperationOutcomeError(outcome('error', 'not-supported', text), 400);
export const methodNotAllowed = (text: string) =>
  new OperationOutcomeError(outcome('error', 'not-supported', text), 405);

export function allOk(text = 'All OK'): OperationOutcome {
  return outcome('information', 'informational', text);
}
