/** The transport-free request and response the FHIR router works on. */
import type { Resource } from '@medplum/fhirtypes';
import type { QueryParams } from './search/parse.ts';

export interface FhirRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Path below the FHIR base, starting with "/" (e.g. "/Patient/123/_history/2"). */
  path: string;
  query: QueryParams;
  body?: unknown;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
}

export interface FhirResponse {
  status: number;
  /** A resource, or pre-serialised resource JSON (served as it is). */
  body?: Resource | string;
  headers: Record<string, string>;
}
