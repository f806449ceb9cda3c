/** The shapes a parsed search filter can take (one URL parameter, possibly chained). */
import type { SearchParameter } from '@medplum/fhirtypes';

interface FilterBase {
  /** The URL key the filter came from, e.g. "subject:Patient.name" (for messages). */
  key: string;
}

/** A plain parameter: `code[:modifier]=v1,v2` (values OR-ed). */
export interface ParamFilter extends FilterBase {
  kind: 'param';
  code: string;
  param: SearchParameter;
  modifier?: string;
  values: string[];
  /** `:in`/`:not-in`: the codes of the named ValueSet, filled in before SQL is built. */
  valueSetCodes?: { system: string | null; code?: string }[];
}

/** Near-match text search over a resource's string values (`_content`) or narrative (`_text`). */
export interface TextFilter extends FilterBase {
  kind: 'text';
  code: '_content' | '_text';
  values: string[];
}

/** A forward chain: `ref[:Type].next` — the reference must point at a resource matching `next`. */
export interface ChainFilter extends FilterBase {
  kind: 'chain';
  code: string;
  param: SearchParameter;
  /** Types the reference may point at for the chain to apply. */
  targetTypes: string[];
  next: SearchFilter;
}

/** A reverse chain: `_has:Source:ref:next` — some Source resource, matching `next`, refers here. */
export interface HasFilter extends FilterBase {
  kind: 'has';
  sourceType: string;
  refParam: string;
  next: SearchFilter;
}

/** `_list=id`: the resource is an item (`List.entry.item`) of one of the named Lists. */
export interface ListFilter extends FilterBase {
  kind: 'list';
  listIds: string[];
}

/** A point and a radius: `Location?near=latitude|longitude|distance|units`. */
export interface NearPoint {
  latitude: number;
  longitude: number;
  km: number;
}

/** `near` on Location: the position lies within the radius of one of the points. */
export interface NearFilter extends FilterBase {
  kind: 'near';
  points: NearPoint[];
}

export type SearchFilter = ParamFilter | TextFilter | ChainFilter | HasFilter | ListFilter | NearFilter;
