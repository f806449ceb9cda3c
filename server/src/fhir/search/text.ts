/**
 * Near-match text search for people-facing search boxes (`_content`, `_text`): "royal rand",
 * "randwick" and the typo "randwik" all find "Royal Randwick Hospital".
 *
 * Every word of the query must match some string value of the resource (`_text`: its narrative),
 * either as the start of a word in it (case and accents never matter: values are normalised) or,
 * for words of 4+ letters, by pg_trgm word similarity (`<%`, threshold
 * pg_trgm.word_similarity_threshold, 0.6 by default), which tolerates a typo or two. Both forms
 * are served by the GIN trigram index on idx_string.value. Results are ranked best first
 * (see `nearRankSql`) unless `_sort` says otherwise.
 */
import { escapeLike, or } from './conditions.ts';
import type { TextFilter } from './filter-types.ts';
import { newAlias, type SqlContext } from './filters.ts';
import { normalizeString } from './normalize.ts';
import { PHONETIC_PARAM } from './phonetic.ts';

/** Words shorter than this match by prefix only: trigrams of short words match too much. */
const MIN_FUZZY_WORD = 4;

function wordsOf(value: string): string[] {
  return normalizeString(value).split(' ').filter(Boolean);
}

function ownerSql(types: string[], x: string, a: string, ctx: SqlContext): string {
  return types.length === 1 ? `${x}.res_type = ${ctx.params.add(types[0])}` : `${x}.res_type = ${a}.type`;
}

/** `_text` reads the narrative rows only; `_content` every string row but the phonetic codes. */
function paramSql(f: TextFilter, x: string, ctx: SqlContext): string {
  return f.code === '_text' ? ` AND ${x}.param = ${ctx.params.add('_text')}` : ` AND ${x}.param <> ${ctx.params.add(PHONETIC_PARAM)}`;
}

export function nearMatchSql(f: TextFilter, types: string[], a: string, ctx: SqlContext): string {
  const p = ctx.params;
  const alternatives = f.values.map((value) => {
    const words = wordsOf(value);
    return `(${words
      .map((w) => {
        const x = newAlias(ctx, 'x');
        const match = [`${x}.value LIKE ${p.add(`${escapeLike(w)}%`)}`, `${x}.value LIKE ${p.add(`% ${escapeLike(w)}%`)}`];
        if (w.length >= MIN_FUZZY_WORD) match.push(`${p.add(w)} <% ${x}.value`);
        const param = paramSql(f, x, ctx);
        return `EXISTS (SELECT 1 FROM idx_string ${x} WHERE ${ownerSql(types, x, a, ctx)} AND ${x}.res_id = ${a}.id${param} AND (${match.join(' OR ')}))`;
      })
      .join(' AND ')})`;
  });
  return or(alternatives);
}

/**
 * Relevance of resource alias `a` to the query (higher is better): the best word similarity of
 * the whole query to any of its values, plus 1 when a value starts with the query.
 */
export function nearRankSql(f: TextFilter, a: string, ctx: SqlContext): string {
  const p = ctx.params;
  const q = normalizeString(f.values.join(' '));
  const x = newAlias(ctx, 'x');
  const param = paramSql(f, x, ctx);
  return `(SELECT max(word_similarity(${p.add(q)}, ${x}.value) + CASE WHEN ${x}.value LIKE ${p.add(`${escapeLike(q)}%`)} THEN 1 ELSE 0 END)::float8
     FROM idx_string ${x} WHERE ${x}.res_type = ${a}.type AND ${x}.res_id = ${a}.id${param})`;
}
