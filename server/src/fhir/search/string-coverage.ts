/**
 * String parameters that overlap: Patient `name` reads every part of a HumanName, while `family`
 * and `given` read two of those parts again (likewise `address` and `address-city`, `-state`,
 * `-postalcode`, `-country` on Address). Indexing each value once cuts a Patient's string rows by
 * about a third: only the wide parameter has rows, each tagged with the part it came from
 * (idx_string.part: `family`, `city`...; null for parts no narrower parameter reads), and a
 * search on a narrow parameter reads the wide parameter's rows of its part. Both kinds of search
 * stay a single index range on (res_type, param, value). The overlap is found from the per-type
 * FHIRPath expressions (`Patient.name` and `Patient.name.family`), so SearchParameters under
 * profiles/ are covered the same way (after `npm run reindex`; migration 071 converts the R4 ones).
 */
import { getExpressionForResourceType } from '@medplum/core';
import { elementDefinition, searchParametersOf } from '../definitions.ts';
import { PHONETIC_PARAM } from './phonetic.ts';

/** The parts of HumanName and Address that string extraction reads (see extract.ts). */
const PARTS_BY_DATATYPE: Record<string, string[]> = {
  HumanName: ['text', 'family', 'given', 'prefix', 'suffix'],
  Address: ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'],
};

/** The datatype a plain path such as "InsurancePlan.contact.address" ends in (one type only). */
function datatypeOf(expression: string): string | undefined {
  const [type, ...path] = expression.split('.');
  let current: string | undefined = type;
  for (const property of path) {
    const types: { code: string }[] | undefined = current ? elementDefinition(current, property)?.type : undefined;
    current = types?.length === 1 ? types[0].code : undefined;
  }
  return current;
}

/** Where a string parameter's rows are: under its own code, or a wider parameter's with a part. */
export interface StringRows {
  param: string;
  part?: string;
}

interface TypeCoverage {
  /** Wide parameter → the parts its rows are tagged with (the narrow parameters' parts). */
  taggedParts: Map<string, Set<string>>;
  /** Narrow parameter → the wide parameter and part whose rows it reads. */
  rowsOf: Map<string, Required<StringRows>>;
}

const cache = new Map<string, TypeCoverage>();

export function stringCoverage(type: string): TypeCoverage {
  let coverage = cache.get(type);
  if (coverage) return coverage;
  coverage = { taggedParts: new Map(), rowsOf: new Map() };
  const expressions = new Map<string, string>();
  for (const p of Object.values(searchParametersOf(type))) {
    // phonetic rows hold sound codes, not the text: they neither cover nor are covered.
    if (p.type !== 'string' || !p.expression || p.code === PHONETIC_PARAM) continue;
    const own = getExpressionForResourceType(type, p.expression);
    if (own && /^[A-Za-z]+(\.[A-Za-z]+)+$/.test(own)) expressions.set(p.code as string, own);
  }
  for (const [code, expression] of expressions) {
    const parts = PARTS_BY_DATATYPE[datatypeOf(expression) ?? ''];
    if (!parts) continue;
    for (const [narrow, narrowExpression] of expressions) {
      // (A part is a plain string, so a narrow parameter is never wide itself.)
      const part = parts.find((x) => narrowExpression === `${expression}.${x}`);
      if (narrow === code || !part || coverage.rowsOf.has(narrow)) continue;
      coverage.rowsOf.set(narrow, { param: code, part });
      coverage.taggedParts.set(code, (coverage.taggedParts.get(code) ?? new Set()).add(part));
    }
  }
  cache.set(type, coverage);
  return coverage;
}

/** The rows a search on string parameter `code` of `type` reads. */
export function stringRowsOf(type: string, code: string): StringRows {
  return stringCoverage(type).rowsOf.get(code) ?? { param: code };
}

/** Whether `code` of `type` has no rows of its own (a wider parameter's rows stand for it). */
export function isCoveredStringParam(type: string, code: string): boolean {
  return stringCoverage(type).rowsOf.has(code);
}
