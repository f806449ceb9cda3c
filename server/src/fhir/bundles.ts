/** Building the Bundles the server answers with: searchset and history. */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { StoredVersion } from './repo/repository.ts';
import { applySubset, needsFormatting, type Summary } from './format.ts';

export function resourceOf(stored: StoredVersion, summary?: Summary, elements?: string[]): Resource {
  const resource = JSON.parse(stored.content as string) as Resource;
  return needsFormatting(summary, elements) ? applySubset(resource, summary, elements) : resource;
}

/**
 * A searchset Bundle as JSON text, with each stored resource's JSON spliced in as it is
 * stored (no parse and re-serialise per resource, which was most of a search's CPU time in the
 * server). Resources that need _summary/_elements are still built as objects. `outcomes` are
 * appended as entries with search.mode "outcome".
 */
export function searchsetBundleText(
  fhirBase: string,
  matches: StoredVersion[],
  included: StoredVersion[],
  total: number | undefined,
  links: BundleLink[],
  summary?: Summary,
  elements?: string[],
  outcomes: Resource[] = [],
): string {
  const entryText = (m: StoredVersion, mode: 'match' | 'include', only?: string[]) => {
    const resource = needsFormatting(summary, only) ? JSON.stringify(resourceOf(m, summary, only)) : (m.content as string);
    return `{"fullUrl":${JSON.stringify(`${fhirBase}/${m.type}/${m.id}`)},"resource":${resource},"search":{"mode":"${mode}"}}`;
  };
  const entries = [
    ...matches.map((m) => entryText(m, 'match', elements)),
    // _elements narrows the matches only; included resources come whole (or as _summary says).
    ...included.map((m) => entryText(m, 'include')),
    ...outcomes.map((oo) => JSON.stringify({ resource: oo, search: { mode: 'outcome' } })),
  ];
  const head: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  if (total !== undefined) head.total = total;
  head.link = links;
  const text = JSON.stringify(head);
  return entries.length ? `${text.slice(0, -1)},"entry":[${entries.join(',')}]}` : text;
}

export function historyBundle(fhirBase: string, versions: StoredVersion[], total: number, links: BundleLink[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link: links,
    entry: versions.map((v) => {
      const url = `${v.type}/${v.id}`;
      const method = (v.method ?? (v.deleted ? 'DELETE' : v.version === 1 ? 'POST' : 'PUT')) as 'POST' | 'PUT' | 'DELETE' | 'PATCH';
      const entry: BundleEntry = {
        fullUrl: `${fhirBase}/${url}`,
        request: { method, url: method === 'POST' ? v.type : url },
        response: {
          status: v.deleted ? '204' : v.version === 1 ? '201' : '200',
          etag: `W/"${v.version}"`,
          lastModified: new Date(v.lastUpdated).toISOString(),
        },
      };
      if (!v.deleted && v.content) entry.resource = JSON.parse(v.content) as Resource;
      return entry;
    }),
  };
}
