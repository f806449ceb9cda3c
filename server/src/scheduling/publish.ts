/**
 * SMART Scheduling Links (slot publisher): what `$bulk-publish` serves. The manifest lists one
 * Location file, one Schedule file and one Slot file per week (Monday to Monday in the clinic's
 * time zone) that has something to publish; every file is NDJSON of minified resources.
 *
 * - Schedules: active ones with a Location actor (the Location first, as the spec's clients read
 *   `actor[0]`); Locations: those the published Schedules name.
 * - Slots: future ones on published Schedules. A full publication lists the free ones not held
 *   by any live claim, each with a booking deep link into the booking app
 *   (`$BASE_URL/apps/booking/?slot=<id>`). With `_since`, every file lists what changed after that
 *   instant instead, and a Slot that was booked meanwhile appears as `busy`, so a client can
 *   update its copy. (Slots deleted because hours changed are not reported with `_since`.)
 *
 * The data is directory data (public by CONTRACT); it is read with raw SQL on the caller's
 * connection, not through the caller's access policy.
 */
import type { Location, Reference, Schedule, Slot } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.ts';
import { refId } from './refs.ts';
import { schedulingSettings } from './settings.ts';

export const BOOKING_DEEP_LINK_URL = 'http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link';

export interface ManifestOutput { type: 'Location' | 'Schedule' | 'Slot'; url: string }

export interface PublishOptions {
  /** Only resources changed after this instant (ms). */
  since?: number;
  /** Defaults to Date.now() (tests move it). */
  now?: number;
  /** Where deep links point (default: the scheduling settings' booking app URL). */
  bookingAppUrl?: string;
}

/** A published file name → what it holds. */
export type PublishedFile = { type: 'Location' } | { type: 'Schedule' } | { type: 'Slot'; week: string };

export function parseFileName(name: string): PublishedFile | undefined {
  if (name === 'Location.ndjson') return { type: 'Location' };
  if (name === 'Schedule.ndjson') return { type: 'Schedule' };
  const m = /^Slot-(\d{4}-\d{2}-\d{2})\.ndjson$/.exec(name);
  if (m && !Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) return { type: 'Slot', week: m[1] };
  return undefined;
}

interface Published { schedules: Schedule[]; locationIds: string[] }

/** Active Schedules with a Location actor, actors reordered Location first. */
async function publishedSchedules(q: Queryable): Promise<Published> {
  const { rows } = await q.query<{ content: string }>(
    `SELECT content FROM resource WHERE type = 'Schedule' AND NOT deleted ORDER BY id`, [], 'publish_schedules');
  const schedules: Schedule[] = [];
  const locations = new Set<string>();
  for (const row of rows) {
    const s = JSON.parse(row.content) as Schedule;
    if (s.active === false) continue;
    const loc = s.actor?.find((a) => refId(a, 'Location'));
    if (!loc) continue;
    locations.add(refId(loc, 'Location') as string);
    schedules.push({ ...s, actor: [loc, ...s.actor.filter((a) => a !== loc)] as Reference[] as Schedule['actor'] });
  }
  return { schedules, locationIds: [...locations].sort() };
}

const lastUpdatedAfter = (r: { meta?: { lastUpdated?: string } }, since: number | undefined) =>
  since === undefined || Date.parse(r.meta?.lastUpdated ?? '') > since;

/** The weeks (Mondays, clinic time) holding slots to publish, soonest first. */
async function slotWeeks(q: Queryable, scheduleIds: string[], opts: PublishOptions): Promise<string[]> {
  const tz = schedulingSettings().timeZone;
  const now = new Date(opts.now ?? Date.now());
  const { rows } = opts.since === undefined
    ? await q.query<{ week: string }>(
      `SELECT DISTINCT to_char(date_trunc('week', s.starts AT TIME ZONE $3), 'YYYY-MM-DD') AS week FROM sched_slot s
        WHERE s.status = 'free' AND s.starts > $2 AND s.schedule_id = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM sched_claim c WHERE c.slot_id = s.slot_id AND (c.expires_at IS NULL OR c.expires_at > $2))
        ORDER BY 1`, [scheduleIds, now, tz], 'publish_weeks')
    : await q.query<{ week: string }>(
      `SELECT DISTINCT to_char(date_trunc('week', s.starts AT TIME ZONE $3), 'YYYY-MM-DD') AS week FROM sched_slot s
        JOIN resource r ON r.type = 'Slot' AND r.id = s.slot_id
        WHERE s.starts > $2 AND s.schedule_id = ANY($1::text[]) AND r.last_updated > $4
        ORDER BY 1`, [scheduleIds, now, tz, new Date(opts.since)], 'publish_weeks_since');
  return rows.map((r) => r.week);
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: false;
  output: ManifestOutput[];
  error: never[];
}

/**
 * The manifest. `fileUrl(name)` makes a file's URL (the caller adds `_since` when given);
 * `request` is the manifest's own URL.
 */
export async function buildManifest(q: Queryable, request: string, fileUrl: (name: string) => string, opts: PublishOptions = {}): Promise<Manifest> {
  const { rows } = await q.query<{ now: Date }>('SELECT now() AS now');
  const transactionTime = new Date(rows[0].now).toISOString();
  const { schedules } = await publishedSchedules(q);
  const weeks = await slotWeeks(q, schedules.map((s) => s.id as string), opts);
  return {
    transactionTime,
    request,
    requiresAccessToken: false,
    output: [
      { type: 'Location', url: fileUrl('Location.ndjson') },
      { type: 'Schedule', url: fileUrl('Schedule.ndjson') },
      ...weeks.map((w): ManifestOutput => ({ type: 'Slot', url: fileUrl(`Slot-${w}.ndjson`) })),
    ],
    error: [],
  };
}

function deepLink(slotId: string, bookingAppUrl = schedulingSettings().bookingAppUrl): string {
  const u = new URL(bookingAppUrl);
  u.searchParams.set('slot', slotId);
  return u.toString();
}

/** The Slot as published: status free or busy; free ones carry the booking deep link. */
function publishedSlot(slot: Slot, free: boolean, bookingAppUrl?: string): Slot {
  const extension = (slot.extension ?? []).filter((e) => e.url !== BOOKING_DEEP_LINK_URL);
  if (free) extension.push({ url: BOOKING_DEEP_LINK_URL, valueUrl: deepLink(slot.id as string, bookingAppUrl) });
  const out: Slot = { ...slot, status: free ? 'free' : 'busy', extension };
  if (!extension.length) delete out.extension;
  return out;
}

/** One published file as NDJSON text (empty string when it holds nothing). */
export async function publishFile(q: Queryable, file: PublishedFile, opts: PublishOptions = {}): Promise<string> {
  const { schedules, locationIds } = await publishedSchedules(q);
  const lines: string[] = [];
  if (file.type === 'Schedule') {
    for (const s of schedules) if (lastUpdatedAfter(s, opts.since)) lines.push(JSON.stringify(s));
  } else if (file.type === 'Location') {
    const { rows } = await q.query<{ content: string }>(
      `SELECT content FROM resource WHERE type = 'Location' AND NOT deleted AND id = ANY($1::text[]) ORDER BY id`, [locationIds], 'publish_locations');
    for (const row of rows) {
      const l = JSON.parse(row.content) as Location;
      if (lastUpdatedAfter(l, opts.since)) lines.push(JSON.stringify(l));
    }
  } else {
    const tz = schedulingSettings().timeZone;
    const now = new Date(opts.now ?? Date.now());
    const { rows } = await q.query<{ content: string; free: boolean }>(
      `SELECT r.content,
              (s.status = 'free' AND NOT EXISTS (SELECT 1 FROM sched_claim c WHERE c.slot_id = s.slot_id AND (c.expires_at IS NULL OR c.expires_at > $2))) AS free
         FROM sched_slot s JOIN resource r ON r.type = 'Slot' AND r.id = s.slot_id AND NOT r.deleted
        WHERE s.schedule_id = ANY($1::text[]) AND s.starts > $2
          AND s.starts >= ($3::date::timestamp AT TIME ZONE $4) AND s.starts < (($3::date + 7)::timestamp AT TIME ZONE $4)
          AND ($5::timestamptz IS NULL OR r.last_updated > $5)
        ORDER BY s.starts, s.slot_id`,
      [schedules.map((s) => s.id), now, file.week, tz, opts.since === undefined ? null : new Date(opts.since)],
      'publish_slots',
    );
    for (const row of rows) {
      if (!row.free && opts.since === undefined) continue;
      lines.push(JSON.stringify(publishedSlot(JSON.parse(row.content) as Slot, row.free, opts.bookingAppUrl)));
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
