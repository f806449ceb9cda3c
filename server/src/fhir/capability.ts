/**
 * The CapabilityStatement, generated from what the server really supports: every resource type
 * with its interactions, search parameters, includes and operations.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { getResourceTypes, searchParametersOf } from './definitions.ts';
import { listOperations } from './operations/index.ts';
import { documentSearchParams } from './search/capability-docs.ts';

export interface CapabilityOptions {
  fhirBaseUrl: string;
  baseUrl: string;
  version: string;
  /** SMART endpoints, once the authorization server is mounted. */
  oauth?: { authorize: string; token: string; introspect?: string; revoke?: string; register?: string };
}

const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

export function buildCapabilityStatement(o: CapabilityOptions): CapabilityStatement {
  const ops = listOperations();
  const resource: CapabilityStatementRestResource[] = getResourceTypes().map((type) => {
    const params = Object.values(searchParametersOf(type));
    const references = params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
    return {
      type: type as CapabilityStatementRestResource['type'],
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'not-supported',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      referencePolicy: ['literal', 'logical', 'enforced', 'local'],
      searchInclude: ['*', ...references],
      searchRevInclude: ['*'],
      searchParam: documentSearchParams(params.map((p) => ({
        name: p.code as string,
        definition: p.url,
        type: p.type as NonNullable<CapabilityStatementRestResource['searchParam']>[number]['type'],
        documentation: p.description,
      }))),
      operation: ops
        .filter((op) => op.types === '*' || op.types.includes(type))
        .map((op) => ({ name: op.name, definition: op.definition })),
    };
  });
  const security: NonNullable<CapabilityStatement['rest']>[number]['security'] = {
    cors: true,
    description: o.oauth ? 'SMART App Launch 2.x: see .well-known/smart-configuration' : 'No authorization server is configured.',
  };
  if (o.oauth) {
    security.service = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }];
    security.extension = [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: Object.entries(o.oauth).map(([k, v]) => ({ url: k, valueUri: v })),
      },
    ];
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'FHIR clinic platform',
    kind: 'instance',
    software: { name: 'fhir-clinic-platform', version: o.version },
    implementation: { description: 'FHIR clinic platform', url: o.fhirBaseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security,
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }, { code: 'history-system' }],
        operation: ops.filter((op) => op.levels.includes('system')).map((op) => ({ name: op.name, definition: op.definition })),
      },
    ],
  };
}
