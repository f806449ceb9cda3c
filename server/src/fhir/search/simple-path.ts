/**
 * A fast evaluator for the plain FHIRPath expressions most SearchParameters use:
 * `Patient.address.city`, unions of such paths, a `.where(system='phone')` or
 * `.where(resolve() is Patient)` filter on a step, and `(Observation.value as Quantity)` or
 * `.ofType(dateTime)` at the end. It walks the JSON directly, taking each element's type from
 * the R4 definitions, and yields the same typed values as the FHIRPath engine does for these
 * forms (search/simple-path.test.ts compares the two over the official R4 examples and the
 * Synthea fixtures). Index extraction runs on every write, and the general engine spends most of
 * its time on bookkeeping these forms do not need.
 *
 * `compileSimplePath` answers undefined for anything else (other functions, operators...), and a
 * compiled walk answers undefined when it meets what only the engine handles (primitive
 * extensions, an `as` that a subtype might satisfy); the caller then uses the FHIRPath engine.
 */
import type { InternalSchemaElement, TypedValue } from '@medplum/core';
import { elementDefinition } from '../definitions.ts';

export type SimplePath = (resource: Record<string, unknown>) => TypedValue[] | undefined;

interface Step {
  name: string;
  /** A `.where(...)` after this step: which values to keep. */
  where?: (value: unknown) => boolean;
}

interface PathPart {
  steps: Step[];
  /** `(path as Type)`: keep values of that type. */
  asType?: string;
}

const IDENT = '[a-zA-Z][a-zA-Z0-9]*';
const STEP_RE = new RegExp(`^${IDENT}$`);
// The engine's own rendering of a per-type expression wraps the condition: where((system = 'phone')).
const WHERE_RE = new RegExp(`^where\\(\\(?\\s*(${IDENT})\\s*=\\s*'([^'\\\\]*)'\\s*\\)?\\)$`);
const WHERE_RESOLVE_RE = new RegExp(`^where\\(\\(?\\s*resolve\\(\\)\\s+is\\s+(${IDENT})\\s*\\)?\\)$`);
const OF_TYPE_RE = new RegExp(`^ofType\\((${IDENT})\\)$`);
/** Words FHIRPath reads as something other than an element name. */
const RESERVED = new Set(['as', 'is', 'and', 'or', 'xor', 'implies', 'div', 'mod', 'in', 'contains', 'true', 'false']);
const AS_RE = new RegExp(`^(.*)\\s+as\\s+(${IDENT})$`);

/** Specialisations of Quantity, which `as Quantity` admits. */
const QUANTITY_KINDS = new Set(['Age', 'Count', 'Distance', 'Duration', 'MoneyQuantity', 'SimpleQuantity']);

/** Types a path may start from besides the resource's own (FHIRPath reads them as type tests). */
const BASE_TYPES = new Set(['Resource', 'DomainResource']);

function parsePart(resourceType: string, text: string): PathPart | undefined {
  let body = text.trim();
  while (body.startsWith('(') && body.endsWith(')') && balanced(body.slice(1, -1))) body = body.slice(1, -1).trim();
  let asType: string | undefined;
  const as = AS_RE.exec(body);
  if (as) {
    body = as[1].trim();
    asType = as[2];
  }
  // Steps are split on dots outside the where() parentheses and quoted literals.
  const pieces = splitTopLevel(body, '.');
  const [root, ...rest] = pieces;
  if (root !== resourceType && !BASE_TYPES.has(root)) return undefined;
  if (rest.length === 0) return undefined;
  const steps: Step[] = [];
  for (const [i, piece] of rest.entries()) {
    const ofType = OF_TYPE_RE.exec(piece);
    if (ofType) {
      // Only as the last step, where it filters like `as`.
      if (i !== rest.length - 1 || asType || steps.length === 0) return undefined;
      asType = ofType[1];
      continue;
    }
    const where = WHERE_RE.exec(piece);
    const whereResolve = WHERE_RESOLVE_RE.exec(piece);
    if (where || whereResolve) {
      const last = steps[steps.length - 1];
      if (!last || last.where) return undefined;
      if (where) {
        const [, field, literal] = where;
        last.where = (v) => (v as Record<string, unknown> | null)?.[field] === literal;
      } else {
        const type = (whereResolve as RegExpExecArray)[1];
        last.where = (v) => resolvedType(v) === type;
      }
      continue;
    }
    // Anything else with parentheses (functions) or a reserved word is not a plain path.
    if (!STEP_RE.test(piece) || RESERVED.has(piece)) return undefined;
    steps.push({ name: piece });
  }
  return { steps, asType };
}

/** Whether parentheses in the text pair up (so outer ones around it may be dropped). */
function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Splits on `separator` outside parentheses and quoted literals. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * The type `resolve()` gives a reference without reading anything, as the engine does: the part
 * before "?" of a conditional reference, else the first segment of "Type/id" (so an absolute
 * URL resolves to no resource type), or the type of a logical reference by identifier.
 */
function resolvedType(value: unknown): string | undefined {
  let ref: string | undefined;
  if (typeof value === 'string') ref = value;
  else if (value && typeof value === 'object') {
    const r = value as { reference?: unknown; type?: unknown; identifier?: unknown; resource?: { resourceType?: string } };
    if (r.resource) return r.resource.resourceType;
    if (typeof r.reference === 'string' && r.reference) ref = r.reference;
    else if (typeof r.type === 'string' && r.identifier) return r.type;
  }
  if (!ref) return undefined;
  if (ref.includes('?')) return ref.split('?')[0];
  if (ref.includes('/')) return ref.split('/')[0];
  return undefined;
}

function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    for (const _ in v as object) return false;
    return true;
  }
  return false;
}

/**
 * Appends the property `name` of one typed value to `out`, typed as the FHIRPath engine types
 * it. False when the walk meets something only the engine handles (a primitive extension, an
 * unknown element).
 */
function propertyOf(input: TypedValue, name: string, out: TypedValue[]): boolean {
  const obj = input.value as Record<string, unknown>;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return true;
  const el = elementDefinition(input.type, name);
  if (!el || !el.type?.length) return false;
  const choice = el.path.endsWith('[x]');
  let value: unknown;
  let type: string | undefined;
  for (const t of el.type) {
    const key = choice ? name + t.code.charAt(0).toUpperCase() + t.code.slice(1) : name;
    if (obj[`_${key}`] !== undefined) return false; // primitive extensions: the engine merges them
    if (obj[key] !== undefined) {
      value = obj[key];
      type = t.code;
      break;
    }
  }
  if (type === undefined || isEmptyValue(value)) return true;
  if (type === 'Element' || type === 'BackboneElement') type = el.type[0].code;
  const push = (v: unknown) => {
    if (v === undefined || v === null) return;
    const t = type === 'Resource' && typeof v === 'object' && typeof (v as { resourceType?: unknown }).resourceType === 'string' ? (v as { resourceType: string }).resourceType : (type as string);
    out.push({ type: t, value: v });
  };
  if (Array.isArray(value)) for (const v of value) push(v);
  else push(value);
  return true;
}

function evaluatePart(part: PathPart, resource: Record<string, unknown>, out: TypedValue[]): boolean {
  let current: TypedValue[] = [{ type: resource.resourceType as string, value: resource }];
  for (const step of part.steps) {
    const next: TypedValue[] = [];
    for (const v of current) if (!propertyOf(v, step.name, next)) return false;
    current = step.where ? next.filter((v) => step.where!(v.value)) : next;
    if (current.length === 0) return true;
  }
  for (const v of current) {
    if (!part.asType || v.type === part.asType) out.push(v);
    // `as` also admits subtypes (an Age is a Quantity): leave those to the engine.
    else if (QUANTITY_KINDS.has(v.type)) return false;
  }
  return true;
}

/** Compiles a per-type expression into a fast evaluator, or undefined when it is not plain. */
export function compileSimplePath(resourceType: string, expression: string): SimplePath | undefined {
  const parts: PathPart[] = [];
  for (const text of splitTopLevel(expression, '|')) {
    const part = parsePart(resourceType, text);
    if (!part) return undefined;
    parts.push(part);
  }
  return (resource) => {
    const out: TypedValue[] = [];
    for (const part of parts) if (!evaluatePart(part, resource, out)) return undefined;
    return out;
  };
}
