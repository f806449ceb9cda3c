/**
 * The `phonetic` string parameters (Patient, Practitioner, Person, RelatedPerson: a name;
 * Organization, InsurancePlan: the name): "sounds like" matching, as the spec asks, with the
 * Double Metaphone algorithm. Each word of a family or given name is indexed as its Double
 * Metaphone codes (idx_string rows of param `phonetic`, `value` the code, `exact` the name part),
 * and every word of the query must share a code with some indexed word: "Smyth" finds Smith,
 * "Jon" finds John, "Kathryn" finds Catherine. `:exact` compares whole name parts as written.
 * Words in scripts Double Metaphone has no codes for (it reads Latin letters) match nothing.
 */
import { doubleMetaphone } from 'double-metaphone';
import { badRequest } from '../outcomes.ts';
import type { StringRow } from './extract.ts';
import { normalizeString } from './normalize.ts';

export const PHONETIC_PARAM = 'phonetic';

export const PHONETIC_DOC =
  'Sounds-like match (Double Metaphone) on each word of the family and given names: every word of the query must sound like a word of a name ' +
  '("Smyth" finds Smith, "Kathryn" finds Catherine). :exact compares a whole name part as written.';

/** The words of a text, lower case and without accents, letters only. */
function wordsOf(text: string): string[] {
  return normalizeString(text).match(/\p{L}+/gu) ?? [];
}

/** Names repeat a lot (family names, common given names): codes of recent words, bounded. */
const codeCache = new Map<string, string[]>();
const CODE_CACHE_SIZE = 20_000;

/** Distinct Double Metaphone codes of one word (none for words it cannot read). */
export function phoneticCodes(word: string): string[] {
  let codes = codeCache.get(word);
  if (!codes) {
    codes = [...new Set(doubleMetaphone(word))].filter((c) => c !== '');
    if (codeCache.size >= CODE_CACHE_SIZE) codeCache.clear();
    codeCache.set(word, codes);
  }
  return codes;
}

/** The name parts a phonetic parameter indexes: family and given names, or a plain string. */
function namePartsOf(type: string, value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (type === 'HumanName' && value && typeof value === 'object') {
    const name = value as { family?: unknown; given?: unknown[] };
    return [name.family, ...(name.given ?? [])].filter((s): s is string => typeof s === 'string' && s.length > 0);
  }
  return [];
}

/** Index rows for one value of a phonetic parameter. */
export function phoneticRows(param: string, type: string, value: unknown): StringRow[] {
  const rows: StringRow[] = [];
  for (const part of namePartsOf(type, value)) {
    for (const word of wordsOf(part)) {
      for (const code of phoneticCodes(word)) rows.push({ param, value: code, exact: part });
    }
  }
  return rows;
}

/**
 * The codes of each word of a search value. Every word must be matched by some index row (a
 * word without codes matches nothing); different words may match different name parts.
 */
export function phoneticQueryCodes(value: string): string[][] {
  const words = wordsOf(value);
  if (!words.length) throw badRequest(`phonetic needs a name to compare, not "${value}"`);
  return words.map(phoneticCodes);
}
