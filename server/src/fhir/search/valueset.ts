/**
 * `:in` / `:not-in` on token parameters: the ValueSet named by the search value (canonical URL,
 * optionally `|version`, or `ValueSet/id`) is read from the store and turned into the codes it
 * holds, before the SQL is built. Supported content: `expansion.contains`, and `compose.include`
 * with listed concepts, whole code systems or other ValueSets; `exclude` of listed concepts.
 * Filters (is-a …) need a terminology server and are refused with 400.
 */
import type { ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/database.ts';
import type { AccessPolicy } from '../../access/policy.ts';
import { badRequest } from '../outcomes.ts';
import { parseLocalReference } from '../references.ts';
import type { ParamFilter, SearchFilter } from './filter-types.ts';
import type { SearchRequest } from './parse.ts';
import { newContext } from './sql.ts';
import { resourceSql } from './filters.ts';

type Code = { system: string | null; code?: string };

const MAX_NESTING = 5;

function paramFilters(filters: SearchFilter[], out: ParamFilter[] = []): ParamFilter[] {
  for (const f of filters) {
    if (f.kind === 'param') out.push(f);
    else if (f.kind === 'chain' || f.kind === 'has') paramFilters([f.next], out);
  }
  return out;
}

export async function resolveValueSets(db: Queryable, req: SearchRequest, access: AccessPolicy): Promise<void> {
  const all = [req.filters, ...(req.otherTypes ?? []).map((b) => b.filters)].flatMap((fs) => paramFilters(fs));
  for (const f of all) {
    if ((f.modifier !== 'in' && f.modifier !== 'not-in') || f.valueSetCodes) continue;
    const codes: Code[] = [];
    for (const v of f.values) codes.push(...(await codesOf(db, access, v, 0)));
    f.valueSetCodes = codes;
  }
}

async function loadValueSet(db: Queryable, access: AccessPolicy, ref: string): Promise<ValueSet> {
  const ctx = newContext(access);
  const p = ctx.params;
  const local = parseLocalReference(ref);
  let match: string;
  if (local) {
    if (local.type !== 'ValueSet') throw badRequest(`"${ref}" is not a ValueSet`);
    match = `r.id = ${p.add(local.id)}`;
  } else {
    const [url, version] = ref.split('|');
    match = `EXISTS (SELECT 1 FROM idx_uri x WHERE x.res_type = 'ValueSet' AND x.res_id = r.id AND x.param = 'url' AND x.value = ${p.add(url)})`;
    if (version) match += ` AND EXISTS (SELECT 1 FROM idx_token x WHERE x.res_type = 'ValueSet' AND x.res_id = r.id AND x.param = 'version' AND x.code = ${p.add(version)})`;
  }
  const sql = `SELECT r.content FROM resource r WHERE ${resourceSql(['ValueSet'], 'r', ctx)} AND ${match} ORDER BY r.last_updated DESC LIMIT 1`;
  const row = (await db.query<{ content: string }>(sql, p.values)).rows[0];
  if (!row) throw badRequest(`ValueSet "${ref}" is not in this server`);
  return JSON.parse(row.content) as ValueSet;
}

async function codesOf(db: Queryable, access: AccessPolicy, ref: string, depth: number): Promise<Code[]> {
  if (depth > MAX_NESTING) throw badRequest(`ValueSet "${ref}" nests other ValueSets too deeply`);
  const vs = await loadValueSet(db, access, ref);
  if (vs.expansion?.contains?.length) return flatten(vs.expansion.contains);
  const include: Code[] = [];
  for (const inc of vs.compose?.include ?? []) include.push(...(await includeCodes(db, access, inc, depth)));
  const excluded = new Set<string>();
  for (const exc of vs.compose?.exclude ?? []) {
    if (exc.filter?.length || exc.valueSet?.length || !exc.concept?.length) {
      throw badRequest(`ValueSet "${ref}" excludes by filter or whole system, which needs a terminology server`);
    }
    for (const c of exc.concept) excluded.add(`${exc.system ?? ''}|${c.code}`);
  }
  return include.filter((c) => c.code === undefined || !excluded.has(`${c.system ?? ''}|${c.code}`));
}

async function includeCodes(db: Queryable, access: AccessPolicy, inc: ValueSetComposeInclude, depth: number): Promise<Code[]> {
  if (inc.filter?.length) throw badRequest('ValueSets with filters (is-a, regex …) need a terminology server and cannot be searched with :in');
  let codes: Code[] | undefined;
  if (inc.concept?.length) codes = inc.concept.map((c) => ({ system: inc.system ?? null, code: c.code as string }));
  else if (inc.system) codes = [{ system: inc.system }];
  // `valueSet` entries intersect with the system part (or stand alone).
  for (const ref of inc.valueSet ?? []) {
    const other = await codesOf(db, access, ref, depth + 1);
    codes = codes === undefined ? other : intersect(codes, other);
  }
  return codes ?? [];
}

function intersect(a: Code[], b: Code[]): Code[] {
  const covers = (set: Code[], c: Code) => set.some((s) => s.system === c.system && (s.code === undefined || s.code === c.code));
  const both = [...a.filter((c) => covers(b, c)), ...b.filter((c) => c.code !== undefined && covers(a, c))];
  return [...new Map(both.map((c) => [`${c.system}|${c.code ?? '*'}`, c])).values()];
}

function flatten(contains: ValueSetExpansionContains[]): Code[] {
  const out: Code[] = [];
  for (const c of contains) {
    if (c.code && !c.abstract) out.push({ system: c.system ?? null, code: c.code });
    if (c.contains?.length) out.push(...flatten(c.contains));
  }
  return out;
}
