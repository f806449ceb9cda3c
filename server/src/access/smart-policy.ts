/**
 * Turns a verified token (scopes, role, patient in context) into the request's AccessPolicy:
 * SMART scopes ∩ the role-policy table, `patient/` scopes confined to the token's patient
 * compartment, granular `?` constraints compiled into SQL for reads and checked in memory for
 * writes. The repository consults it for every read, search and write (also inside bundles).
 */
import type { Resource } from '@medplum/fhirtypes';
import { forbidden } from '../fhir/outcomes.ts';
import { searchParametersOf } from '../fhir/definitions.ts';
import { extractIndexRows } from '../fhir/search/extract.ts';
import type { SqlParams } from '../fhir/search/sql-params.ts';
import type { Role } from '../accounts/roles.ts';
import type { AccessPolicy, Interaction } from './policy.ts';
import { DIRECTORY_TYPES, ROLE_POLICIES, rolePermissions } from './role-policy.ts';
import { parseScope, type Permission, type ScopeGrant } from './scopes.ts';

export interface TokenAccess {
  scopes: string[];
  /** The user's role; undefined for backend services (system/ scopes). */
  role?: Role;
  /** The user's FHIR resource ("Patient/1"), for patients' own-compartment rule. */
  fhirUser?: string;
  /** Patient id in context (patient/ scopes are confined to it). */
  patient?: string;
}

const LETTER: Record<Interaction, Permission> = {
  read: 'r', vread: 'r', history: 'r', search: 's', create: 'c', update: 'u', patch: 'u', delete: 'd',
};

/** One usable permission on one type: which letters, and which rows (undefined = all rows). */
interface Rule {
  perms: Set<Permission>;
  /** Patient compartment the rows must belong to ("Patient/1"), if any. */
  compartment?: string;
  /** Token constraints (param, system|code) every row must meet. */
  constraints: { param: string; system?: string; code: string }[];
}

/** `?category=laboratory` → token constraints; undefined when a constraint is not a token parameter we can enforce. */
function tokenConstraints(type: string, grant: ScopeGrant): Rule['constraints'] | undefined {
  const out: Rule['constraints'] = [];
  for (const [param, raw] of grant.constraints) {
    if (type === '*' || searchParametersOf(type)[param]?.type !== 'token') return undefined;
    const bar = raw.indexOf('|');
    out.push(bar < 0 ? { param, code: raw } : { param, system: raw.slice(0, bar) || undefined, code: raw.slice(bar + 1) });
  }
  return out;
}

export class SmartPolicy implements AccessPolicy {
  private readonly token: TokenAccess;
  private readonly grants: ScopeGrant[];
  private readonly cache = new Map<string, Rule[]>();

  constructor(token: TokenAccess) {
    this.token = token;
    this.grants = token.scopes.map(parseScope).filter((g): g is ScopeGrant => g !== undefined);
  }

  /** The rules that apply to `type`, after the role cap and context confinement. */
  rules(type: string): Rule[] {
    let rules = this.cache.get(type);
    if (rules) return rules;
    rules = [];
    const { role, patient } = this.token;
    const ownCompartment = role && ROLE_POLICIES[role].ownCompartmentOnly && this.token.fhirUser?.startsWith('Patient/') ? this.token.fhirUser : undefined;
    for (const g of this.grants) {
      if (g.type !== '*' && g.type !== type) continue;
      let perms = new Set(g.perms);
      let compartment: string | undefined;
      if (g.context === 'system') {
        if (role) continue; // system/ scopes belong to backend services, not users
      } else {
        if (!role) continue;
        perms = new Set([...perms].filter((p) => rolePermissions(role, type).has(p)));
        if (g.context === 'patient') {
          if (!patient) continue; // no patient in context: patient/ scopes grant nothing
          compartment = `Patient/${patient}`;
        } else if (ownCompartment && !DIRECTORY_TYPES.has(type)) {
          compartment = ownCompartment;
        }
      }
      const constraints = tokenConstraints(type, g);
      if (!constraints || perms.size === 0) continue;
      rules.push({ perms, compartment, constraints });
    }
    // Directory data is readable with any patient or user token (CONTRACT).
    if (DIRECTORY_TYPES.has(type) && this.token.role && this.grants.some((g) => g.context !== 'system')) {
      rules.push({ perms: new Set(['r', 's']), constraints: [] });
    }
    this.cache.set(type, rules);
    return rules;
  }

  checkInteraction(type: string | undefined, interaction: Interaction): void {
    const letter = LETTER[interaction];
    if (type === undefined) {
      // System-wide history or search: only for unconfined grants on every type.
      if (this.grants.some((g) => g.type === '*' && g.perms.has(letter) && g.constraints.length === 0 && (g.context === 'system' ? !this.token.role : this.token.role === 'admin'))) return;
      throw forbidden(`Your token does not allow ${interaction} across all resource types`);
    }
    if (!this.rules(type).some((r) => r.perms.has(letter))) {
      throw forbidden(`Your token's scopes and role do not allow ${interaction} on ${type}`);
    }
  }

  visibleRows(type: string, alias: string, params: SqlParams): string | undefined {
    const readable = this.rules(type).filter((r) => r.perms.has('r') || r.perms.has('s'));
    if (readable.length === 0) return 'FALSE';
    // One unconfined rule makes every row visible (checked first: no parameters may be added then).
    if (readable.some((r) => !r.compartment && r.constraints.length === 0)) return undefined;
    const conds: string[] = [];
    for (const r of readable) {
      const parts: string[] = [];
      if (r.compartment) parts.push(`${alias}.compartments @> ARRAY[${params.add(r.compartment)}]::text[]`);
      for (const c of r.constraints) {
        const system = c.system !== undefined ? ` AND x.system = ${params.add(c.system)}` : '';
        parts.push(`EXISTS (SELECT 1 FROM idx_token x WHERE x.res_type = ${alias}.type AND x.res_id = ${alias}.id AND x.param = ${params.add(c.param)} AND x.code = ${params.add(c.code)}${system})`);
      }
      conds.push(`(${parts.join(' AND ')})`);
    }
    return conds.join(' OR ');
  }

  checkWrite(type: string, next: Resource | undefined, previous: Resource | undefined): void {
    const letter: Permission = !previous ? 'c' : !next ? 'd' : 'u';
    const rules = this.rules(type).filter((r) => r.perms.has(letter));
    const versions = [next, previous].filter((v): v is Resource => v !== undefined);
    const ok = rules.some((r) => versions.every((v) => matches(r, v)));
    if (!ok) {
      throw forbidden(rules.length
        ? `This ${type} is outside what your token may write (patient compartment or scope constraints)`
        : `Your token's scopes and role do not allow writing ${type}`);
    }
  }
}

/** Whether a resource version satisfies a rule's compartment and constraints (in memory). */
function matches(rule: Rule, resource: Resource): boolean {
  if (!rule.compartment && rule.constraints.length === 0) return true;
  const rows = extractIndexRows(resource);
  if (rule.compartment && !rows.compartments.includes(rule.compartment)) return false;
  return rule.constraints.every((c) =>
    rows.token.some((t) => t.param === c.param && t.code === c.code && (c.system === undefined || t.system === c.system)));
}
