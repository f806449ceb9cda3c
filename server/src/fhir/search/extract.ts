/**
 * Resource → search-index rows. Every search parameter of the resource's type is evaluated with
 * FHIRPath (its per-type expression) and each value is turned into rows of the index table for
 * its parameter type. Runs on every write, in the same transaction as the resource.
 */
import { evalFhirPathTyped, getExpressionForResourceType, getParsedExpressionForResourceType, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { dateRange } from '../dates.ts';
import { patientCompartmentParamsOf, searchParametersOf } from '../definitions.ts';
import { normalizeString } from './normalize.ts';
import { parseLocalReference } from '../references.ts';
import { extractCompositeRows } from './extract-composite.ts';
import { compileSimplePath, type SimplePath } from './simple-path.ts';
import { PHONETIC_PARAM, phoneticRows } from './phonetic.ts';
import { positionRows } from './special.ts';
import { isCoveredStringParam, stringCoverage } from './string-coverage.ts';

/** `part`: the HumanName/Address part a wide parameter's row came from, when a narrower parameter reads it. */
export interface StringRow { param: string; value: string; exact: string; part?: string }
export interface TokenRow { param: string; system: string | null; code: string | null; text: string | null }
export interface ReferenceRow { param: string; targetType: string | null; targetId: string | null; url: string | null }
export interface DateRow { param: string; low: string; high: string }
export interface NumberRow { param: string; value: number }
export interface QuantityRow { param: string; value: number; system: string | null; code: string | null; unit: string | null }
export interface UriRow { param: string; value: string }
export interface CompositeRow {
  param: string; grp: number; comp: number;
  system?: string | null; code?: string | null; text?: string | null; value?: number | null; unit?: string | null;
  low?: string | null; high?: string | null; str?: string | null; exact?: string | null;
  targetType?: string | null; targetId?: string | null; url?: string | null;
}

export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  reference: ReferenceRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  uri: UriRow[];
  composite: CompositeRow[];
  /** Compartments the resource belongs to, e.g. "Patient/123". */
  compartments: string[];
}

/** Parameters answered from the resource table's own columns, not from index rows. */
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

export interface IndexedParam {
  param: SearchParameter;
  /** The parameter's FHIRPath expression for this resource type, parsed once. */
  expression: FhirPathAtom;
  /**
   * Top-level elements the expression starts from; when the resource has none of them the
   * expression cannot yield anything and is skipped. Undefined: always evaluate.
   */
  roots?: string[];
  /** The same expression as a direct JSON walk, when it is a plain path (see simple-path.ts). */
  simple?: SimplePath;
  /** String parameters: parts whose rows are tagged for narrower parameters (string-coverage.ts). */
  taggedParts?: Set<string>;
}

/** Top-level elements named as "Type.element" in an expression, if that is all it reads. */
function rootsOf(resourceType: string, expression: string): string[] | undefined {
  // Expressions that can yield a value from absence (exists(), empty(), boolean logic) always run.
  if (/\b(exists|empty|not|count|iif|hasValue)\(|\s(and|or|xor|implies)\s/.test(expression)) return undefined;
  const parts = expression.split('|').map((p) => p.trim().replace(/^\(+/, ''));
  const roots: string[] = [];
  for (const part of parts) {
    const m = new RegExp(`^${resourceType}\\.([a-zA-Z]+)`).exec(part);
    if (!m) return undefined;
    roots.push(m[1]);
  }
  return roots;
}

/** Whether a resource has any of the root elements (choice types: valueQuantity for "value"). */
function hasAnyRoot(resource: Record<string, unknown>, roots: string[]): boolean {
  for (const root of roots) {
    if (resource[root] !== undefined) return true;
    for (const key in resource) {
      if (key.length > root.length && key.startsWith(root) && key.charCodeAt(root.length) < 91) return true;
    }
  }
  return false;
}

/** The parameters of a type that are filled from index rows (cached per type). */
const indexedParamsCache = new Map<string, IndexedParam[]>();
export function indexedParams(resourceType: string): IndexedParam[] {
  let params = indexedParamsCache.get(resourceType);
  if (!params) {
    params = Object.values(searchParametersOf(resourceType))
      .filter((p) => !COLUMN_PARAMS.has(p.code as string) && p.type !== 'composite' && p.type !== 'special' && p.expression)
      // A narrow string parameter's values are the wide one's rows of its part.
      .filter((p) => !(p.type === 'string' && isCoveredStringParam(resourceType, p.code as string)))
      .flatMap((p) => {
        try {
          const own = (p.expression as string).split('|').map((e) => e.trim()).filter((e) => e.replace(/^\(+/, '').startsWith(`${resourceType}.`)).join(' | ');
          const perType = getExpressionForResourceType(resourceType, p.expression as string);
          return [{
            param: p,
            expression: getParsedExpressionForResourceType(resourceType, p.expression as string),
            roots: own ? rootsOf(resourceType, own) : undefined,
            simple: perType ? compileSimplePath(resourceType, perType) : undefined,
            taggedParts: p.type === 'string' ? stringCoverage(resourceType).taggedParts.get(p.code as string) : undefined,
          }];
        } catch {
          return []; // an expression the FHIRPath parser rejects cannot be indexed
        }
      });
    indexedParamsCache.set(resourceType, params);
  }
  return params;
}

export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], reference: [], date: [], number: [], quantity: [], uri: [], composite: [], compartments: [] };
}

/**
 * The index rows of a resource. `engineOnly` evaluates every expression with the FHIRPath engine
 * (the fast plain-path walk is checked against it in tests).
 */
export function extractIndexRows(resource: Resource, engineOnly = false): IndexRows {
  const rows = emptyIndexRows();
  const typed = [toTypedValue(resource)];
  const json = resource as unknown as Record<string, unknown>;
  for (const { param: sp, expression, roots, simple, taggedParts } of indexedParams(resource.resourceType)) {
    if (roots && !hasAnyRoot(json, roots)) continue;
    let values: TypedValue[] | undefined = engineOnly ? undefined : simple?.(json);
    if (!values) {
      try {
        values = evalFhirPathTyped(expression, typed);
      } catch {
        // An expression the FHIRPath engine cannot evaluate on this resource indexes nothing.
        continue;
      }
    }
    for (const v of values) addValue(rows, sp, v, taggedParts);
  }
  rows.composite = extractCompositeRows(resource, typed);
  addNarrative(rows, json);
  rows.number.push(...positionRows(json));
  rows.compartments = compartmentsOf(resource, rows.reference);
  return dedupe(rows);
}

/** Adds the rows of one value; `taggedParts`: HumanName/Address parts whose rows name their part. */
export function addValue(rows: IndexRows, sp: SearchParameter, tv: TypedValue, taggedParts?: Set<string>): void {
  const param = sp.code as string;
  const { type, value } = tv;
  if (value === undefined || value === null) return;
  switch (sp.type) {
    case 'string':
      if (param === PHONETIC_PARAM) rows.string.push(...phoneticRows(param, type, value));
      else addStrings(rows.string, param, type, value, taggedParts);
      break;
    case 'token':
      addTokens(rows.token, param, type, value);
      break;
    case 'reference':
      addReference(rows, param, type, value);
      break;
    case 'date':
      addDates(rows.date, param, type, value);
      break;
    case 'number':
      if (typeof value === 'number') rows.number.push({ param, value });
      else if (typeof value?.value === 'number') rows.number.push({ param, value: value.value });
      break;
    case 'quantity':
      addQuantity(rows.quantity, param, type, value);
      break;
    case 'uri':
      if (typeof value === 'string') rows.uri.push({ param, value });
      break;
  }
}

function addStrings(out: StringRow[], param: string, type: string, value: any, taggedParts?: Set<string>): void {
  if (type === 'HumanName' || type === 'Address') {
    for (const part of type === 'HumanName' ? HUMAN_NAME_PARTS : ADDRESS_PARTS) {
      const v = value[part];
      const tag = taggedParts?.has(part) ? { part } : {};
      for (const s of Array.isArray(v) ? v : [v]) if (isText(s)) out.push({ param, value: normalizeString(s), exact: s, ...tag });
    }
    return;
  }
  for (const s of stringsOf(type, value)) out.push({ param, value: normalizeString(s), exact: s });
}

function stringsOf(type: string, value: any): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && typeof value.text === 'string') return [value.text];
  return [];
}

const isText = (s: unknown): s is string => typeof s === 'string' && s.length > 0;
const HUMAN_NAME_PARTS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_PARTS = ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'];

function addTokens(out: TokenRow[], param: string, type: string, value: any): void {
  const text = (s: unknown) => (isText(s) ? normalizeString(s) : null);
  switch (type) {
    case 'Coding':
      out.push({ param, system: value.system ?? null, code: value.code ?? null, text: text(value.display) });
      return;
    case 'CodeableConcept':
      for (const c of value.coding ?? []) out.push({ param, system: c.system ?? null, code: c.code ?? null, text: text(c.display ?? value.text) });
      if (!value.coding?.length && isText(value.text)) out.push({ param, system: null, code: null, text: text(value.text) });
      return;
    case 'Identifier':
      out.push({ param, system: value.system ?? null, code: value.value ?? null, text: text(value.type?.text) });
      // :of-type searches match the identifier's type coding together with its value.
      for (const c of value.type?.coding ?? []) {
        if (c.code && value.value) out.push({ param: `${param}:of-type`, system: c.system ?? null, code: `${c.code}|${value.value}`, text: null });
      }
      return;
    case 'ContactPoint':
      out.push({ param, system: value.system ?? null, code: value.value ?? null, text: null });
      return;
    case 'boolean':
      out.push({ param, system: null, code: String(value), text: null });
      return;
    default:
      if (typeof value === 'string' || typeof value === 'number') out.push({ param, system: null, code: String(value), text: null });
  }
}

function addReference(rows: IndexRows, param: string, type: string, value: any): void {
  if (typeof value === 'string') {
    // canonical or uri targets
    const local = parseLocalReference(value);
    rows.reference.push({ param, targetType: local?.type ?? null, targetId: local?.id ?? null, url: local ? null : value });
    return;
  }
  if (type === 'Reference' || typeof value === 'object') {
    if (isText(value.reference)) {
      const local = parseLocalReference(value.reference);
      rows.reference.push({ param, targetType: local?.type ?? null, targetId: local?.id ?? null, url: local ? null : value.reference });
    }
    if (value.identifier?.value) {
      rows.token.push({ param: `${param}:identifier`, system: value.identifier.system ?? null, code: value.identifier.value, text: null });
    }
  }
}

function addDates(out: DateRow[], param: string, type: string, value: any): void {
  const push = (low: string | undefined, high: string | undefined) => {
    const lo = low ? dateRange(low)?.low : '-infinity';
    const hi = high ? dateRange(high)?.high : 'infinity';
    if (lo && hi) out.push({ param, low: lo, high: hi });
  };
  if (typeof value === 'string') push(value, value);
  else if (type === 'Period') {
    if (value.start || value.end) push(value.start, value.end);
  } else if (type === 'Timing') {
    for (const e of value.event ?? []) push(e, e);
    const b = value.repeat?.boundsPeriod;
    if (b && (b.start || b.end)) push(b.start, b.end);
  }
}

function addQuantity(out: QuantityRow[], param: string, type: string, value: any): void {
  if (typeof value?.value !== 'number') return;
  if (type === 'Money') out.push({ param, value: value.value, system: 'urn:iso:std:iso:4217', code: value.currency ?? null, unit: value.currency ?? null });
  else out.push({ param, value: value.value, system: value.system ?? null, code: value.code ?? null, unit: value.unit ?? null });
}

function compartmentsOf(resource: Resource, refs: ReferenceRow[]): string[] {
  const out = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) out.add(`Patient/${resource.id}`);
  const params = patientCompartmentParamsOf(resource.resourceType);
  if (params.length) {
    for (const r of refs) {
      if (r.targetType === 'Patient' && r.targetId && params.includes(r.param)) out.add(`Patient/${r.targetId}`);
    }
  }
  return [...out];
}

/**
 * `_text` searches the narrative: its XHTML reduced to words (tags dropped, common entities
 * decoded). Only for the index; the narrative itself is served unchanged.
 */
function addNarrative(rows: IndexRows, json: Record<string, unknown>): void {
  const div = (json.text as { div?: unknown } | undefined)?.div;
  if (typeof div !== 'string') return;
  const plain = div
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
  const value = normalizeString(plain).slice(0, 2000);
  if (value) rows.string.push({ param: '_text', value, exact: plain.trim().slice(0, 2000) });
}

/** A row's fields and values joined (cheaper than JSON): equal rows have equal keys. */
function rowKey(row: object): string {
  let k = '';
  for (const f in row) {
    const v = (row as Record<string, unknown>)[f];
    if (v === undefined) continue; // as JSON would drop it
    k += `${f}\u0001${v === null ? '\u0002' : String(v)}\u0000`;
  }
  return k;
}

/** Identical rows (common with unions in expressions) are written once. */
function dedupe(rows: IndexRows): IndexRows {
  for (const key of ['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri', 'composite'] as const) {
    const seen = new Set<string>();
    const list = rows[key] as object[];
    if (list.length < 2) continue;
    (rows[key] as object[]) = list.filter((r) => {
      const k = rowKey(r);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  return rows;
}
