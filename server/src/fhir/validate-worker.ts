/** Worker-thread side of validate-pool.ts: the validation errors of each resource of a chunk (as JSON texts). */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { validationErrors } from './validate.ts';

export default function validateChunk(json: string[]): OperationOutcomeIssue[][] {
  return json.map((text) => validationErrors(JSON.parse(text) as Resource));
}
