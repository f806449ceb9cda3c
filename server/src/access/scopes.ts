/**
 * SMART scope parsing, v1 (`patient/Observation.read`, `.write`, `.*`) and v2
 * (`patient/Observation.rs`, `user/*.cruds`, with granular `?param=value` constraints).
 * Each clinical scope becomes a ScopeGrant: context, resource type (or `*`), permission letters
 * and optional constraints.
 */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';
export type ScopeContext = 'patient' | 'user' | 'system';

export interface ScopeGrant {
  scope: string;
  context: ScopeContext;
  /** A resource type or `*`. */
  type: string;
  perms: Set<Permission>;
  /** `?code=http://loinc.org|1234-5&category=laboratory` → [[code, [...]], [category, [...]]]. */
  constraints: [string, string][];
}

/** Scopes that are not about resources but launch context, identity and refresh. */
export const NON_RESOURCE_SCOPES = new Set([
  'openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access',
]);

const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE_RE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(?:\?(.+))?$/;

/** The grant a scope string expresses, or undefined when it is not a clinical scope we understand. */
export function parseScope(scope: string): ScopeGrant | undefined {
  const m = SCOPE_RE.exec(scope);
  if (!m) return undefined;
  const [, context, type, access, query] = m;
  let perms: Permission[] | undefined = V1[access];
  if (!perms) {
    // v2: a non-empty subsequence of "cruds", in that order.
    if (!/^c?r?u?d?s?$/.test(access) || !access) return undefined;
    perms = access.split('') as Permission[];
  }
  const constraints: [string, string][] = [];
  if (query) {
    // v1 scopes have no constraints.
    if (V1[access]) return undefined;
    for (const [k, v] of new URLSearchParams(query)) {
      if (!/^[a-z][a-z0-9-]*$/i.test(k) || !v) return undefined;
      constraints.push([k, v]);
    }
  }
  return { scope, context: context as ScopeContext, type, perms: new Set(perms), constraints };
}

export function splitScopes(scope: unknown): string[] {
  return typeof scope === 'string' ? [...new Set(scope.split(/\s+/).filter(Boolean))] : [];
}

/** Whether we recognise a scope at all (clinical or launch/identity). */
export function isKnownScope(scope: string): boolean {
  return NON_RESOURCE_SCOPES.has(scope) || parseScope(scope) !== undefined;
}

/** Whether `wanted` asks for no more than one of `allowed` grants (same context, type or `*`, fewer letters, same or more constraints). */
export function scopeCovered(wanted: string, allowed: string[]): boolean {
  if (allowed.includes(wanted)) return true;
  const w = parseScope(wanted);
  if (!w) return false;
  return allowed.some((a) => {
    const g = parseScope(a);
    if (!g || g.context !== w.context || (g.type !== '*' && g.type !== w.type)) return false;
    if (![...w.perms].every((p) => g.perms.has(p))) return false;
    return g.constraints.every(([k, v]) => w.constraints.some(([k2, v2]) => k === k2 && v === v2));
  });
}
