/**
 * The search parameters R4 calls "special", which no FHIRPath-to-index-row rule covers:
 *
 * - `_list=id` (any type): the resource is an item of List `id` (`List.entry.item`), read from
 *   the List's own reference index rows, so a List hidden from the caller selects nothing.
 * - `near=latitude|longitude|distance|units` (Location): `Location.position` lies within the
 *   distance (great-circle, WGS84 mean radius) of the point. The position is indexed as two
 *   number rows (`near:latitude`, `near:longitude`); a bounding box on them lets the index find
 *   candidates before the exact distance is computed. Without `_sort`, nearest first.
 */
import { badRequest } from '../outcomes.ts';
import { ID_RE } from '../references.ts';
import type { ListFilter, NearFilter, NearPoint } from './filter-types.ts';
import { newAlias, resourceSql, type SqlContext } from './filters.ts';
import type { NumberRow } from './extract.ts';

/** Index rows holding Location.position (in idx_number). */
export const LATITUDE_PARAM = 'near:latitude';
export const LONGITUDE_PARAM = 'near:longitude';

/** Radius used when `near` names no distance (the spec leaves it to the server). */
export const DEFAULT_NEAR_KM = 10;

const KM_PER_UNIT: Record<string, number> = { km: 1, m: 0.001, '[mi_i]': 1.609344, '[mi_us]': 1.609347 };
const EARTH_RADIUS_KM = 6371.0088;
// A degree is ~111.2 km on that sphere; a smaller figure only makes the bounding box larger.
const KM_PER_DEGREE = 110;

export const NEAR_DOC =
  `latitude|longitude|distance|units (WGS84): Locations whose position is within the distance (great-circle); units km (default), m, [mi_i] or [mi_us]; ` +
  `without a distance, ${DEFAULT_NEAR_KM} km. Results come nearest first unless _sort is given.`;
export const LIST_DOC = 'Resources that are items (List.entry.item) of the List with this id.';

/** The position rows of a Location (none when it has no full position). */
export function positionRows(resource: Record<string, unknown>): NumberRow[] {
  if (resource.resourceType !== 'Location') return [];
  const position = resource.position as { latitude?: unknown; longitude?: unknown } | undefined;
  const { latitude, longitude } = position ?? {};
  if (typeof latitude !== 'number' || typeof longitude !== 'number') return [];
  return [
    { param: LATITUDE_PARAM, value: latitude },
    { param: LONGITUDE_PARAM, value: longitude },
  ];
}

export function parseListFilter(key: string, modifier: string | undefined, values: string[]): ListFilter {
  if (modifier) throw badRequest(`_list takes no modifier (got :${modifier})`);
  const listIds = values.filter((v) => v !== '').map((v) => (v.startsWith('List/') ? v.slice(5) : v));
  if (!listIds.length) throw badRequest('_list needs the id of a List');
  for (const id of listIds) {
    if (id.startsWith('$')) throw badRequest(`Functional lists such as "${id}" are not supported; name a List by its id`);
    if (!ID_RE.test(id)) throw badRequest(`"${id}" is not a List id`);
  }
  return { kind: 'list', key, listIds };
}

export function parseNearFilter(key: string, modifier: string | undefined, values: string[]): NearFilter {
  if (modifier) throw badRequest(`near takes no modifier (got :${modifier})`);
  const points = values.filter((v) => v !== '').map(parseNearPoint);
  if (!points.length) throw badRequest('near needs latitude|longitude[|distance|units]');
  return { kind: 'near', key, points };
}

function parseNearPoint(value: string): NearPoint {
  const [lat, lon, distance, units, ...extra] = value.split('|');
  const usage = `near takes latitude|longitude|distance|units, not "${value}"`;
  const number = (s: string | undefined) => (s !== undefined && /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s.trim()) ? Number(s) : NaN);
  const latitude = number(lat);
  const longitude = number(lon);
  if (extra.length || Number.isNaN(latitude) || Number.isNaN(longitude)) throw badRequest(usage);
  if (Math.abs(latitude) > 90) throw badRequest(`Latitude must be between -90 and 90 (got ${lat})`);
  if (Math.abs(longitude) > 180) throw badRequest(`Longitude must be between -180 and 180 (got ${lon})`);
  let km = DEFAULT_NEAR_KM;
  if (distance !== undefined && distance !== '') {
    const d = number(distance);
    if (Number.isNaN(d) || d < 0) throw badRequest(`The distance in near must be a non-negative number (got "${distance}")`);
    const unit = units === undefined || units === '' ? 'km' : units;
    const factor = KM_PER_UNIT[unit];
    if (factor === undefined) throw badRequest(`Unknown distance unit "${unit}" in near: use km, m, [mi_i] or [mi_us]`);
    km = d * factor;
  }
  return { latitude, longitude, km };
}

/** Predicate: resource alias `a` is an item of one of the (live, visible) Lists. */
export function listSql(f: ListFilter, types: string[], a: string, ctx: SqlContext): string {
  const x = newAlias(ctx, 'x');
  const l = newAlias(ctx, 'r');
  const p = ctx.params;
  const target = types.length === 1 ? `${x}.target_type = ${p.add(types[0])}` : `${x}.target_type = ${a}.type`;
  return `EXISTS (SELECT 1 FROM idx_reference ${x} JOIN resource ${l} ON ${l}.type = ${x}.res_type AND ${l}.id = ${x}.res_id
     WHERE ${target} AND ${x}.target_id = ${a}.id AND ${x}.res_type = 'List' AND ${x}.param = 'item'
       AND ${x}.res_id = ANY(${p.add(f.listIds)}::text[]) AND ${resourceSql(['List'], l, ctx)})`;
}

/** The position rows of resource alias `a`: latitude alias, longitude alias, FROM/WHERE text. */
function positionJoin(a: string, ctx: SqlContext): { la: string; lo: string; from: string } {
  const la = newAlias(ctx, 'la');
  const lo = newAlias(ctx, 'lo');
  const from = `idx_number ${la} JOIN idx_number ${lo} ON ${lo}.res_type = ${la}.res_type AND ${lo}.res_id = ${la}.res_id AND ${lo}.param = '${LONGITUDE_PARAM}'
     WHERE ${la}.res_type = 'Location' AND ${la}.res_id = ${a}.id AND ${la}.param = '${LATITUDE_PARAM}'`;
  return { la, lo, from };
}

/** Great-circle distance in km between the row's position and the point (haversine). */
function distanceSql(la: string, lo: string, point: NearPoint, ctx: SqlContext): string {
  const p = ctx.params;
  const lat = `${p.add(point.latitude)}::float8`;
  const lon = `${p.add(point.longitude)}::float8`;
  const rowLat = `${la}.value::float8`;
  const rowLon = `${lo}.value::float8`;
  const h = `power(sin(radians(${rowLat} - ${lat}) / 2), 2) + cos(radians(${lat})) * cos(radians(${rowLat})) * power(sin(radians(${rowLon} - ${lon}) / 2), 2)`;
  return `(2 * ${EARTH_RADIUS_KM} * asin(sqrt(least(1::float8, ${h}))))`;
}

export interface BoundingBox {
  minLatitude: number;
  maxLatitude: number;
  /** Absent when the circle reaches a pole or crosses the antimeridian. */
  longitude?: { min: number; max: number };
}

/** A box holding every point within the radius (larger than needed, never smaller). */
export function boundingBox(point: NearPoint): BoundingBox {
  const dLat = point.km / KM_PER_DEGREE;
  const box: BoundingBox = { minLatitude: point.latitude - dLat, maxLatitude: point.latitude + dLat };
  const farthestLat = Math.abs(point.latitude) + dLat;
  if (farthestLat < 89) {
    const dLon = point.km / (KM_PER_DEGREE * Math.cos((farthestLat * Math.PI) / 180));
    if (point.longitude - dLon > -180 && point.longitude + dLon < 180) box.longitude = { min: point.longitude - dLon, max: point.longitude + dLon };
  }
  return box;
}

function boundingBoxSql(la: string, lo: string, point: NearPoint, ctx: SqlContext): string {
  const p = ctx.params;
  const box = boundingBox(point);
  const conds = [`${la}.value BETWEEN ${p.add(box.minLatitude)} AND ${p.add(box.maxLatitude)}`];
  if (box.longitude) conds.push(`${lo}.value BETWEEN ${p.add(box.longitude.min)} AND ${p.add(box.longitude.max)}`);
  return conds.join(' AND ');
}

/** Predicate: Location alias `a` lies within the radius of one of the filter's points. */
export function nearSql(f: NearFilter, a: string, ctx: SqlContext): string {
  const alternatives = f.points.map((point) => {
    const { la, lo, from } = positionJoin(a, ctx);
    // The box is slightly larger than the circle: it only narrows what the exact test sees.
    const box = boundingBoxSql(la, lo, point, ctx);
    return `EXISTS (SELECT 1 FROM ${from} AND ${box} AND ${distanceSql(la, lo, point, ctx)} <= ${ctx.params.add(point.km)}::float8)`;
  });
  return alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(' OR ')})`;
}

/** Sort key: the distance from the filter's first point (null without a position). */
export function nearDistanceSql(f: NearFilter, a: string, ctx: SqlContext): string {
  const { la, lo, from } = positionJoin(a, ctx);
  return `(SELECT ${distanceSql(la, lo, f.points[0], ctx)} FROM ${from})`;
}
