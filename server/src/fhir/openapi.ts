/** An OpenAPI 3 document derived from the CapabilityStatement, for API browsers and client generators. */
import type { CapabilityStatement } from '@medplum/fhirtypes';

type Json = Record<string, unknown>;

const resourceBody = (type: string): Json => ({
  required: true,
  content: { 'application/fhir+json': { schema: { $ref: `#/components/schemas/${type}` } } },
});

const response = (description: string, schemaRef = '#/components/schemas/Resource'): Json => ({
  description,
  content: { 'application/fhir+json': { schema: { $ref: schemaRef } } },
});

const errors: Json = {
  '400': response('Bad request', '#/components/schemas/OperationOutcome'),
  '401': response('Not authenticated', '#/components/schemas/OperationOutcome'),
  '403': response('Forbidden', '#/components/schemas/OperationOutcome'),
  '404': response('Not found', '#/components/schemas/OperationOutcome'),
};

export function buildOpenApi(cs: CapabilityStatement, fhirBaseUrl: string): Json {
  const paths: Json = {};
  const schemas: Json = {
    Resource: { type: 'object', required: ['resourceType'], properties: { resourceType: { type: 'string' }, id: { type: 'string' } } },
    OperationOutcome: { type: 'object', properties: { resourceType: { const: 'OperationOutcome' }, issue: { type: 'array', items: { type: 'object' } } } },
    Bundle: { type: 'object', properties: { resourceType: { const: 'Bundle' }, type: { type: 'string' }, entry: { type: 'array', items: { type: 'object' } } } },
  };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' } };
  for (const r of cs.rest?.[0]?.resource ?? []) {
    const type = r.type as string;
    schemas[type] = { allOf: [{ $ref: '#/components/schemas/Resource' }], description: `FHIR R4 ${type}` };
    const searchParams = (r.searchParam ?? []).map((p) => ({ name: p.name, in: 'query', required: false, description: `${p.type}: ${p.documentation ?? ''}`, schema: { type: 'string' } }));
    paths[`/${type}`] = {
      get: { tags: [type], summary: `Search ${type}`, parameters: searchParams, responses: { '200': response('Search results', '#/components/schemas/Bundle'), ...errors } },
      post: { tags: [type], summary: `Create ${type}`, requestBody: resourceBody(type), responses: { '201': response('Created'), ...errors } },
    };
    paths[`/${type}/{id}`] = {
      get: { tags: [type], summary: `Read ${type}`, parameters: [idParam], responses: { '200': response(type), ...errors, '410': response('Deleted', '#/components/schemas/OperationOutcome') } },
      put: { tags: [type], summary: `Update ${type}`, parameters: [idParam], requestBody: resourceBody(type), responses: { '200': response('Updated'), '201': response('Created'), ...errors, '412': response('Version mismatch', '#/components/schemas/OperationOutcome') } },
      patch: { tags: [type], summary: `Patch ${type} (JSON Patch)`, parameters: [idParam], requestBody: { required: true, content: { 'application/json-patch+json': { schema: { type: 'array', items: { type: 'object' } } } } }, responses: { '200': response('Patched'), ...errors } },
      delete: { tags: [type], summary: `Delete ${type}`, parameters: [idParam], responses: { '200': response('Deleted', '#/components/schemas/OperationOutcome'), ...errors } },
    };
    paths[`/${type}/{id}/_history`] = { get: { tags: [type], summary: `History of a ${type}`, parameters: [idParam], responses: { '200': response('History', '#/components/schemas/Bundle'), ...errors } } };
    paths[`/${type}/{id}/_history/{vid}`] = {
      get: { tags: [type], summary: `Read a version of a ${type}`, parameters: [idParam, { name: 'vid', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': response(type), ...errors } },
    };
    for (const op of r.operation ?? []) {
      paths[`/${type}/$${op.name}`] = { post: { tags: [type], summary: `$${op.name} on ${type}`, responses: { '200': response('Result'), ...errors } } };
    }
  }
  paths['/'] = { post: { tags: ['System'], summary: 'Batch or transaction', requestBody: resourceBody('Bundle'), responses: { '200': response('Response bundle', '#/components/schemas/Bundle'), ...errors } } };
  paths['/metadata'] = { get: { tags: ['System'], summary: 'CapabilityStatement', responses: { '200': response('CapabilityStatement') } } };
  paths['/_history'] = { get: { tags: ['System'], summary: 'History of all resources', responses: { '200': response('History', '#/components/schemas/Bundle') } } };
  return {
    openapi: '3.0.3',
    info: { title: 'FHIR clinic platform — FHIR R4 API', version: cs.software?.version ?? '0', description: 'Generated from the CapabilityStatement at /fhir/metadata.' },
    servers: [{ url: fhirBaseUrl }],
    paths,
    components: {
      schemas,
      securitySchemes: { smart: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
