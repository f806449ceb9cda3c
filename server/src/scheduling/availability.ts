/**
 * Opening hours (`PractitionerRole.availableTime`, wall-clock times in the clinic's zone) → the
 * 30-minute slots they hold, aligned to :00 and :30. Pure functions; DST is handled by reading
 * each day's opening and closing times in the zone, so a day with a clock change has one slot
 * more or less across the change, and never a slot at a time that does not exist.
 */
import type { PractitionerRole } from '@medplum/fhirtypes';
import { addDays, toLocal, weekday, zonedToUtc, type LocalDate } from './time.ts';

export const SLOT_MINUTES = 30;
const SLOT_MS = SLOT_MINUTES * 60_000;
const DAY_CODES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface Interval {
  start: number;
  end: number;
}

/** `09:30:00` → 570; undefined when malformed. */
export function minutesOf(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(time);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return undefined;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** The opening windows of one local date, as instants (sorted, possibly empty). */
export function openingWindows(role: Pick<PractitionerRole, 'availableTime'>, date: LocalDate, timeZone: string): Interval[] {
  const code = DAY_CODES[weekday(date)];
  const out: Interval[] = [];
  for (const at of role.availableTime ?? []) {
    if (!at.daysOfWeek?.includes(code as 'mon')) continue;
    let from = at.allDay ? 0 : minutesOf(at.availableStartTime);
    let to = at.allDay ? 1440 : minutesOf(at.availableEndTime);
    if (from === undefined || to === undefined) continue;
    if (to === 0) to = 1440; // "until midnight"
    if (to <= from) continue;
    out.push({ start: zonedToUtc(date, from, timeZone), end: zonedToUtc(date, to, timeZone) });
  }
  return out.sort((a, b) => a.start - b.start);
}

function blocked(role: Pick<PractitionerRole, 'notAvailable'>): Interval[] {
  return (role.notAvailable ?? [])
    .map((n) => ({ start: Date.parse(n.during?.start ?? ''), end: Date.parse(n.during?.end ?? '') }))
    .filter((i) => !Number.isNaN(i.start) && !Number.isNaN(i.end));
}

/** Whether an instant reads :00 or :30 (to the second) on the zone's clocks. */
export function onSlotBoundary(ms: number, timeZone: string): boolean {
  const l = toLocal(ms, timeZone);
  return ms % 1000 === 0 && l.second === 0 && l.minute % SLOT_MINUTES === 0;
}

/**
 * Slot start instants of `role` whose slots lie in [from, to): every :00/:30 inside an opening
 * window (slots end by the window's close), minus `notAvailable` periods.
 */
export function slotStarts(role: Pick<PractitionerRole, 'availableTime' | 'notAvailable'>, from: number, to: number, timeZone: string): number[] {
  const out = new Set<number>();
  const off = blocked(role);
  // From the local date before `from` (windows can start the previous evening) to `to`'s date.
  let date = addDays(toLocal(from, timeZone), -1);
  const last = toLocal(to, timeZone);
  const lastKey = last.year * 10_000 + last.month * 100 + last.day;
  while (date.year * 10_000 + date.month * 100 + date.day <= lastKey) {
    for (const w of openingWindows(role, date, timeZone)) {
      for (let t = w.start; t + SLOT_MS <= w.end; t += 60_000) {
        if (!onSlotBoundary(t, timeZone)) continue;
        // Found the first boundary: from here every slot is SLOT_MS apart in real time.
        for (let s = t; s + SLOT_MS <= w.end; s += SLOT_MS) {
          if (s < from || s + SLOT_MS > to) continue;
          if (off.some((b) => s < b.end && s + SLOT_MS > b.start)) continue;
          out.add(s);
        }
        break;
      }
    }
    date = addDays(date, 1);
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether [start, end) lies inside one opening window of the role (and not in notAvailable). */
export function withinHours(role: Pick<PractitionerRole, 'availableTime' | 'notAvailable'>, start: number, end: number, timeZone: string): boolean {
  const startDate = toLocal(start, timeZone);
  for (const date of [addDays(startDate, -1), startDate]) {
    for (const w of openingWindows(role, date, timeZone)) {
      if (start >= w.start && end <= w.end) return !blocked(role).some((b) => start < b.end && end > b.start);
    }
  }
  return false;
}
