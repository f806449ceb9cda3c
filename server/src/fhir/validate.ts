/**
 * Validation of every write against the R4 base definitions (@medplum/core's validator, plus
 * required code bindings and non-empty arrays from ./bindings.ts) and, when `meta.profile` names
 * one of ours (under profiles/), against that profile too. Failures are 400 OperationOutcomes whose
 * issues name the bad element in `expression`.
 */
import { validateResource } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isResourceType, loadDefinitions, localProfile } from './definitions.ts';
import { bindingIssues } from './bindings.ts';
import { OperationOutcomeError, badRequest } from './outcomes.ts';

/** Issues found in a resource (errors and warnings); empty when it is valid. */
export function validationIssues(resource: Resource): OperationOutcomeIssue[] {
  loadDefinitions();
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    return [{ severity: 'error', code: 'structure', details: { text: 'A resource must be a JSON object' } }];
  }
  if (typeof resource.resourceType !== 'string' || !isResourceType(resource.resourceType)) {
    return [
      {
        severity: 'error',
        code: 'structure',
        details: { text: `Unknown resourceType "${String(resource.resourceType)}"` },
        expression: ['resourceType'],
      },
    ];
  }
  const issues: OperationOutcomeIssue[] = [];
  const run = (profile?: Parameters<typeof validateResource>[1]) => {
    try {
      issues.push(...(validateResource(resource, profile) ?? []));
    } catch (err) {
      const oo = (err as { outcome?: OperationOutcome }).outcome;
      if (oo?.issue) issues.push(...oo.issue);
      else issues.push({ severity: 'error', code: 'structure', details: { text: (err as Error).message } });
    }
  };
  run();
  issues.push(...bindingIssues(resource));
  for (const url of resource.meta?.profile ?? []) {
    const sd = localProfile(url);
    if (sd) run({ profile: sd });
  }
  return issues;
}

/** The issues that make a resource invalid (errors and fatal ones); empty when it is valid. */
export function validationErrors(resource: Resource): OperationOutcomeIssue[] {
  return validationIssues(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** Throws a 400 OperationOutcome when the resource has validation errors. */
export function assertValid(resource: Resource): void {
  throwIfInvalid(validationErrors(resource));
}

/** Throws the 400 OperationOutcome of a resource's validation errors, if there are any. */
export function throwIfInvalid(errors: OperationOutcomeIssue[]): void {
  if (errors.length > 0) {
    throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: errors }, 400);
  }
}

export function assertResourceType(type: string): void {
  if (!isResourceType(type)) throw badRequest(`Unknown resource type "${type}"`);
}
