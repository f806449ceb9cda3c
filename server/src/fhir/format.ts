/** `_summary` and `_elements` applied to a resource before it is returned. */
import type { Resource } from '@medplum/fhirtypes';
import { hasElement, mandatoryElementsOf, summaryElementsOf } from './definitions.ts';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

function markSubsetted(resource: Record<string, any>): void {
  const meta = { ...(resource.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []).filter((t: any) => t.code !== 'SUBSETTED'), SUBSETTED];
  resource.meta = meta;
}

export type Summary = 'true' | 'text' | 'data' | 'count' | 'false' | undefined;

/** True when neither parameter asks for a subset, so the stored JSON can be sent as it is. */
export function needsFormatting(summary: Summary, elements: string[] | undefined): boolean {
  return (summary !== undefined && summary !== 'false' && summary !== 'count') || (elements !== undefined && elements.length > 0);
}

export function applySubset(resource: Resource, summary: Summary, elements: string[] | undefined): Resource {
  const src = resource as unknown as Record<string, unknown>;
  const type = resource.resourceType;
  let keep: (key: string) => boolean;
  if (elements?.length) {
    // "value" also selects "valueQuantity" and its other choice-type spellings.
    const names = elements.map((e) => e.split('.').pop() as string);
    const wanted = new Set([...names, ...names.map((n) => `${n}[x]`)]);
    const mandatory = mandatoryElementsOf(type);
    keep = (k) => hasElement(wanted, k) || hasElement(mandatory, k);
  } else if (summary === 'true') {
    const summaryEls = summaryElementsOf(type);
    keep = (k) => hasElement(summaryEls, k);
  } else if (summary === 'text') {
    const mandatory = mandatoryElementsOf(type);
    keep = (k) => k === 'text' || hasElement(mandatory, k);
  } else if (summary === 'data') {
    keep = (k) => k !== 'text';
  } else {
    return resource;
  }
  const out: Record<string, unknown> = { resourceType: type };
  for (const [k, v] of Object.entries(src)) {
    if (k === 'resourceType' || k === 'id' || k === 'meta' || keep(k)) out[k] = v;
  }
  markSubsetted(out);
  return out as unknown as Resource;
}
