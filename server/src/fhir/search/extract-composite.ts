/**
 * Index rows for composite parameters (e.g. Observation `code-value-quantity`). The composite's
 * expression picks elements (the Observation, or each Observation.component); each component's
 * expression is evaluated on that element, and every value becomes a row sharing the element's
 * group number, so a search can insist that all components match the same element.
 */
import { evalFhirPathTyped, getParsedExpressionForResourceType, parseFhirPath, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { getResourceTypes, searchParametersOf } from '../definitions.ts';
import { addValue, emptyIndexRows, type CompositeRow, type IndexRows } from './extract.ts';

export interface CompiledComposite {
  param: SearchParameter;
  base: FhirPathAtom;
  components: { param: SearchParameter; expression: FhirPathAtom }[];
}

let byUrl: Map<string, SearchParameter> | undefined;
/** Every SearchParameter by canonical URL (component definitions point at them). */
export function searchParameterByUrl(url: string): SearchParameter | undefined {
  if (!byUrl) {
    byUrl = new Map();
    for (const t of getResourceTypes()) for (const p of Object.values(searchParametersOf(t))) if (p.url) byUrl.set(p.url, p);
  }
  return byUrl.get(url);
}

const cache = new Map<string, CompiledComposite[]>();
export function compositeParams(resourceType: string): CompiledComposite[] {
  let list = cache.get(resourceType);
  if (list) return list;
  list = [];
  for (const p of Object.values(searchParametersOf(resourceType))) {
    if (p.type !== 'composite' || !p.expression || !p.component?.length) continue;
    try {
      const components = p.component.map((c) => {
        const param = searchParameterByUrl(c.definition as string);
        if (!param) throw new Error(`unknown component ${c.definition}`);
        return { param, expression: parseFhirPath(c.expression as string) };
      });
      list.push({ param: p, base: getParsedExpressionForResourceType(resourceType, p.expression), components });
    } catch {
      // A composite whose parts we cannot resolve or parse is not indexed (and finds nothing).
    }
  }
  cache.set(resourceType, list);
  return list;
}

/** Component value rows, in the column names of idx_composite. */
function componentRows(param: SearchParameter, values: TypedValue[]): Omit<CompositeRow, 'param' | 'grp' | 'comp'>[] {
  const rows: IndexRows = emptyIndexRows();
  const sp = { ...param, code: 'c' } as SearchParameter;
  for (const v of values) addValue(rows, sp, v);
  switch (param.type) {
    case 'token': return rows.token.map((r) => ({ system: r.system, code: r.code, text: r.text }));
    case 'quantity': return rows.quantity.map((r) => ({ value: r.value, system: r.system, code: r.code, unit: r.unit }));
    case 'number': return rows.number.map((r) => ({ value: r.value }));
    case 'date': return rows.date.map((r) => ({ low: r.low, high: r.high }));
    case 'string': return rows.string.map((r) => ({ str: r.value, exact: r.exact }));
    case 'uri': return rows.uri.map((r) => ({ str: r.value }));
    case 'reference': return rows.reference.map((r) => ({ targetType: r.targetType, targetId: r.targetId, url: r.url }));
  }
  return [];
}

export function extractCompositeRows(resource: Resource, typed: TypedValue[]): CompositeRow[] {
  const out: CompositeRow[] = [];
  const composites = compositeParams(resource.resourceType);
  if (!composites.length) return out;
  const variables = { '%resource': typed[0], '%rootResource': typed[0] };
  let grp = 0;
  for (const c of composites) {
    let elements: TypedValue[];
    try {
      elements = evalFhirPathTyped(c.base, typed, variables);
    } catch {
      continue;
    }
    for (const element of elements) {
      const parts = c.components.map((comp) => {
        try {
          return componentRows(comp.param, evalFhirPathTyped(comp.expression, [element], variables));
        } catch {
          return [];
        }
      });
      // An element missing any component cannot match a composite search: skip it.
      if (parts.some((p) => p.length === 0)) continue;
      grp++;
      parts.forEach((rows, comp) => {
        for (const r of rows) out.push({ param: c.param.code as string, grp, comp, ...r });
      });
    }
  }
  return out;
}
