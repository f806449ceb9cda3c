/**
 * String parameters that overlap: Patient `name` reads every part of a HumanName, while `family`
 * and `given` read two of those parts again (likewise `address` and `address-city`, `-state`,
 * `-postalcode`, `-country` on Address). Indexing each value once cuts a Patient's string rows by
 * about a third: the wide parameter stores only the parts no narrower parameter stores (name:
 * text, prefix, suffix), and a search on it reads its own rows together with the narrower
 * parameters' rows. The overlap is found from the per-type FHIRPath expressions (`Patient.name`
 * and `Patient.name.family`), so SearchParameters under profiles/ are covered the same way.
 */
import { getExpressionForResourceType } from '@medplum/core';
import { searchParametersOf } from '../definitions.ts';
import { PHONETIC_PARAM } from './phonetic.ts';

/** The parts of HumanName and Address that string extraction reads (see extract.ts). */
const PARTS = ['text', 'family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state', 'postalCode', 'country'];

export interface StringCoverage {
  /** Parts of this parameter's values that narrower parameters index instead. */
  coveredParts: Set<string>;
  /** This parameter and the narrower ones: a search on it reads rows of all of them. */
  params: string[];
}

const cache = new Map<string, Map<string, StringCoverage>>();

/** Per string parameter code of `type`, its coverage (only parameters that have some). */
export function stringCoverage(type: string): Map<string, StringCoverage> {
  let byCode = cache.get(type);
  if (byCode) return byCode;
  byCode = new Map();
  const expressions = new Map<string, string>();
  for (const p of Object.values(searchParametersOf(type))) {
    // phonetic rows hold sound codes, not the text: they neither cover nor are covered.
    if (p.type !== 'string' || !p.expression || p.code === PHONETIC_PARAM) continue;
    const own = getExpressionForResourceType(type, p.expression);
    if (own && /^[A-Za-z]+(\.[A-Za-z]+)+$/.test(own)) expressions.set(p.code as string, own);
  }
  for (const [code, expression] of expressions) {
    const coverage: StringCoverage = { coveredParts: new Set(), params: [code] };
    for (const [other, otherExpression] of expressions) {
      const part = PARTS.find((x) => otherExpression === `${expression}.${x}`);
      if (other === code || !part) continue;
      coverage.coveredParts.add(part);
      coverage.params.push(other);
    }
    if (coverage.coveredParts.size) byCode.set(code, coverage);
  }
  cache.set(type, byCode);
  return byCode;
}

/** The parameter codes whose index rows a search on string parameter `code` of `type` reads. */
export function stringSearchParams(type: string, code: string): string[] {
  return stringCoverage(type).get(code)?.params ?? [code];
}
