/** Worker-thread side of validate-pool.ts: the validation errors of each resource of a chunk. */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { validationErrors } from './validate.ts';

export default function validateChunk(resources: Resource[]): OperationOutcomeIssue[][] {
  return resources.map(validationErrors);
}
