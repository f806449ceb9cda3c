/**
 * `$validate` on a type (the resource in the body, bare or as the `resource` parameter) or on an
 * instance (the body, or the stored resource when there is none). Answers 200 with an
 * OperationOutcome listing every issue, or one informational issue when it is valid.
 */
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { validationIssues } from '../validate.ts';
import { allOk, badRequest } from '../outcomes.ts';
import type { OperationDefinitionSummary } from './index.ts';

function resourceFromBody(body: unknown): Resource | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Resource;
  if (b.resourceType === 'Parameters') {
    return (b as Parameters).parameter?.find((p) => p.name === 'resource')?.resource as Resource | undefined;
  }
  return b;
}

export const validateOperation: OperationDefinitionSummary = {
  name: 'validate',
  definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  types: '*',
  levels: ['type', 'instance'],
  methods: ['POST'],
  async handler({ repo, req, type, id }) {
    let resource = resourceFromBody(req.body);
    if (!resource && id && type) resource = await repo.readResource(type, id);
    if (!resource) throw badRequest('$validate needs a resource in the body (or a Parameters with "resource")');
    if (type && resource.resourceType !== type) {
      throw badRequest(`resourceType "${resource.resourceType}" does not match "${type}"`, ['resourceType']);
    }
    const issues = validationIssues(resource);
    const body = issues.length ? { resourceType: 'OperationOutcome' as const, issue: issues } : allOk('Validation passed');
    return { status: 200, body, headers: {} };
  },
};
