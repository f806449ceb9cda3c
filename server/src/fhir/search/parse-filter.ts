/**
 * One search URL key (with its values) → a SearchFilter: plain parameters with modifiers,
 * forward chains (`subject:Patient.name`) and reverse chains (`_has:Observation:patient:code`),
 * which may nest inside each other. Returns undefined for an unknown parameter; throws 400 for
 * keys that are malformed rather than unknown.
 */
import { isResourceType, searchParametersOf } from '../definitions.ts';
import { badRequest } from '../outcomes.ts';
import type { SearchFilter } from './filter-types.ts';
import { parseListFilter, parseNearFilter } from './special.ts';

/** Chains (`a.b.c.d`) may be at most this many references deep; `_has` may nest this deep. */
export const MAX_CHAIN_DEPTH = 3;
export const MAX_HAS_DEPTH = 3;

/** Modifiers each parameter type accepts (reference also takes a resource type). */
const MODIFIERS: Record<string, string[]> = {
  string: ['exact', 'contains', 'missing'],
  token: ['not', 'text', 'of-type', 'in', 'not-in', 'missing'],
  reference: ['identifier', 'missing'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['above', 'below', 'missing'],
  composite: [],
};

interface Depth {
  chain: number;
  has: number;
}

export function parseFilterKey(resourceType: string, key: string, values: string[]): SearchFilter | undefined {
  return parseKey(resourceType, key, key, values, { chain: 0, has: 0 });
}

function parseKey(resourceType: string, fullKey: string, key: string, values: string[], depth: Depth): SearchFilter | undefined {
  if (key.startsWith('_has:')) return parseHas(resourceType, fullKey, key, values, depth);
  const dot = key.indexOf('.');
  if (dot >= 0) return parseChain(resourceType, fullKey, key.slice(0, dot), key.slice(dot + 1), values, depth);
  return parsePlain(resourceType, fullKey, key, values);
}

function parsePlain(resourceType: string, fullKey: string, key: string, values: string[]): SearchFilter | undefined {
  const i = key.indexOf(':');
  const code = i < 0 ? key : key.slice(0, i);
  const modifier = i < 0 ? undefined : key.slice(i + 1);
  if (code === '_content' || code === '_text') {
    if (modifier) throw badRequest(`${code} takes no modifier (got :${modifier})`);
    if (values.every((v) => !v.trim())) throw badRequest(`${code} needs some text to search for`);
    return { kind: 'text', key: fullKey, code, values };
  }
  if (code === '_list') return parseListFilter(fullKey, modifier, values);
  const param = searchParametersOf(resourceType)[code];
  if (!param) return undefined;
  const type = param.type as string;
  if (type === 'special') {
    if (resourceType === 'Location' && code === 'near') return parseNearFilter(fullKey, modifier, values);
    return undefined; // no other R4 special parameter is supported
  }
  if (modifier !== undefined) {
    const allowed = MODIFIERS[type] ?? [];
    const typeModifier = type === 'reference' && isResourceType(modifier);
    if (!allowed.includes(modifier) && !typeModifier) {
      throw badRequest(`Modifier :${modifier} is not supported on ${type} parameter "${code}"`);
    }
    if (typeModifier && param.target?.length && !param.target.includes(modifier as never)) {
      throw badRequest(`"${code}" of ${resourceType} cannot refer to a ${modifier}`);
    }
    if (code === 'phonetic' && type === 'string' && modifier === 'contains') {
      throw badRequest('phonetic matches names by sound; it takes :exact or :missing, not :contains');
    }
    if (modifier === 'missing' && (values.length !== 1 || !['true', 'false'].includes(values[0]))) {
      throw badRequest(`:missing takes true or false (parameter "${fullKey}")`);
    }
  }
  if (values.length === 0 || values.every((v) => v === '')) {
    throw badRequest(`Search parameter "${fullKey}" needs a value`);
  }
  return { kind: 'param', key: fullKey, code, param, modifier, values: values.filter((v) => v !== '') };
}

/** `ref[:Type]` then `.rest`: the reference's targets must match `rest`. */
function parseChain(resourceType: string, fullKey: string, head: string, rest: string, values: string[], depth: Depth): SearchFilter | undefined {
  if (depth.chain >= MAX_CHAIN_DEPTH) throw badRequest(`Chain "${fullKey}" is deeper than ${MAX_CHAIN_DEPTH} references`);
  const i = head.indexOf(':');
  const code = i < 0 ? head : head.slice(0, i);
  const typeModifier = i < 0 ? undefined : head.slice(i + 1);
  const param = searchParametersOf(resourceType)[code];
  if (!param) return undefined;
  if (param.type !== 'reference') throw badRequest(`Cannot chain on "${code}": it is a ${param.type} parameter, not a reference`);
  if (typeModifier !== undefined && !isResourceType(typeModifier)) throw badRequest(`Unknown resource type "${typeModifier}" in chain "${fullKey}"`);
  const declared = (param.target as string[] | undefined)?.filter(isResourceType) ?? [];
  if (typeModifier && declared.length && !declared.includes(typeModifier)) {
    throw badRequest(`"${code}" of ${resourceType} cannot refer to a ${typeModifier}`);
  }
  const candidates = typeModifier ? [typeModifier] : declared;
  // The chained parameter must mean the same kind of thing on every type the chain reaches.
  const nextCode = rest.split(/[.:]/)[0];
  let next: SearchFilter | undefined;
  const targetTypes: string[] = [];
  let paramType: string | undefined;
  for (const t of candidates) {
    const p = nextCode === '_has' ? undefined : searchParametersOf(t)[nextCode];
    if (nextCode !== '_has' && nextCode !== '_content' && nextCode !== '_text' && !p) continue;
    if (paramType !== undefined && p && p.type !== paramType) continue;
    const f = parseKey(t, fullKey, rest, values, { ...depth, chain: depth.chain + 1 });
    if (!f) continue;
    paramType ??= p?.type as string | undefined;
    next ??= f;
    targetTypes.push(t);
  }
  if (!next) return undefined;
  return { kind: 'chain', key: fullKey, code, param, targetTypes, next };
}

/** `_has:Source:ref:rest`: some Source resource whose `ref` points here matches `rest`. */
function parseHas(resourceType: string, fullKey: string, key: string, values: string[], depth: Depth): SearchFilter | undefined {
  if (depth.has >= MAX_HAS_DEPTH) throw badRequest(`"${fullKey}" nests _has deeper than ${MAX_HAS_DEPTH}`);
  const parts = key.split(':');
  const [, sourceType, refParam] = parts;
  const rest = parts.slice(3).join(':');
  if (!sourceType || !refParam || !rest) throw badRequest(`Malformed _has "${fullKey}": expected _has:Type:reference:parameter`);
  if (!isResourceType(sourceType)) throw badRequest(`Unknown resource type "${sourceType}" in "${fullKey}"`);
  const ref = searchParametersOf(sourceType)[refParam];
  if (!ref || ref.type !== 'reference') throw badRequest(`"${refParam}" is not a reference parameter of ${sourceType} (in "${fullKey}")`);
  const targets = (ref.target as string[] | undefined) ?? [];
  if (targets.length && !targets.includes(resourceType)) {
    throw badRequest(`"${refParam}" of ${sourceType} never refers to a ${resourceType} (in "${fullKey}")`);
  }
  const next = parseKey(sourceType, fullKey, rest, values, { ...depth, has: depth.has + 1 });
  if (!next) return undefined;
  return { kind: 'has', key: fullKey, sourceType, refParam, next };
}
