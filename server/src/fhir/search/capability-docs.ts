/**
 * What the CapabilityStatement says about search beyond the parameter list: how string
 * matching works, the near-match `_content`/`_text` parameters (see text.ts), and the special
 * parameters `_list` and `near` (see special.ts).
 */
import type { CapabilityStatementRestResourceSearchParam } from '@medplum/fhirtypes';
import { PHONETIC_DOC, PHONETIC_PARAM } from './phonetic.ts';
import { LIST_DOC, NEAR_DOC } from './special.ts';

const STRING_NOTE =
  ' Matching: case- and accent-insensitive starts-with on the whole value (per the spec); :contains matches anywhere, :exact compares exactly.';

export const NEAR_MATCH_DOC =
  'Near-match text search for people-facing search boxes. Every word of the query must match a string value of the resource, ' +
  'either as the start of a word (case and accents ignored) or, for words of 4+ letters, by trigram word similarity ' +
  '(PostgreSQL pg_trgm, threshold 0.6), which tolerates typos: "royal rand", "randwick" and "randwik" all find "Royal Randwick Hospital". ' +
  'Results are ranked best first (a value starting with the query, then trigram similarity) unless _sort is given.';

/** Adds the string-matching note, and `_content` / `_text`, to one type's search parameters. */
export function documentSearchParams(params: CapabilityStatementRestResourceSearchParam[]): CapabilityStatementRestResourceSearchParam[] {
  const out = params.map((p) => {
    if (p.type === 'string' && p.name === PHONETIC_PARAM) return { ...p, documentation: PHONETIC_DOC };
    if (p.type === 'string') return { ...p, documentation: `${p.documentation ?? ''}${STRING_NOTE}`.trim() };
    if (p.type === 'special' && p.name === 'near') return { ...p, documentation: NEAR_DOC };
    return p;
  });
  if (!out.some((p) => p.name === '_list')) {
    out.push({ name: '_list', type: 'special', documentation: LIST_DOC });
  }
  if (!out.some((p) => p.name === '_content')) {
    out.push({ name: '_content', type: 'string', definition: 'http://hl7.org/fhir/SearchParameter/Resource-content', documentation: `${NEAR_MATCH_DOC} Searches every string value of the resource.` });
  }
  if (!out.some((p) => p.name === '_text')) {
    out.push({ name: '_text', type: 'string', definition: 'http://hl7.org/fhir/SearchParameter/DomainResource-text', documentation: `${NEAR_MATCH_DOC} Searches the narrative (text.div) only.` });
  }
  return out;
}
