/** Recognising and collecting local references ("Patient/123") inside resources. */
import { isResourceType } from './definitions.ts';

export const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

export interface LocalReference {
  type: string;
  id: string;
  version?: string;
}

let baseUrlPrefix: string | undefined;
/** Absolute URLs that start with our FHIR base are local references too. */
export function setLocalBaseUrl(fhirBaseUrl: string): void {
  baseUrlPrefix = fhirBaseUrl.replace(/\/+$/, '') + '/';
}

/** "Patient/123", "Patient/123/_history/2" or "<our base>/Patient/123" → its parts; else undefined. */
export function parseLocalReference(reference: string): LocalReference | undefined {
  let ref = reference;
  if (baseUrlPrefix && ref.startsWith(baseUrlPrefix)) ref = ref.slice(baseUrlPrefix.length);
  const parts = ref.split('/');
  if (parts.length !== 2 && !(parts.length === 4 && parts[2] === '_history')) return undefined;
  const [type, id] = parts;
  if (!isResourceType(type) || !ID_RE.test(id)) return undefined;
  return parts.length === 4 ? { type, id, version: parts[3] } : { type, id };
}

/**
 * Visits every Reference.reference string in a resource (any object with a string `reference`
 * property), letting `visit` replace it by returning a new string.
 */
export function visitReferences(node: unknown, visit: (reference: string) => string | void): void {
  if (Array.isArray(node)) {
    for (const item of node) visitReferences(item, visit);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.reference === 'string') {
    const replaced = visit(obj.reference);
    if (typeof replaced === 'string') obj.reference = replaced;
  }
  for (const [key, value] of Object.entries(obj)) {
    // Contained resources' references point inside the container or elsewhere: visit them too.
    if (key !== 'reference' && typeof value === 'object') visitReferences(value, visit);
  }
}

/** The distinct local references ("Type/id") a resource makes, skipping contained "#…" ones. */
export function localReferencesOf(resource: unknown): LocalReference[] {
  const seen = new Map<string, LocalReference>();
  visitReferences(resource, (ref) => {
    const local = parseLocalReference(ref);
    if (local) seen.set(`${local.type}/${local.id}`, local);
  });
  return [...seen.values()];
}
