/** Calendar-day arithmetic in the clinic's time zone, without a date library. */

/** The UTC offset of `timeZone` at `at`, in milliseconds (e.g. +11 h for Sydney in summer). */
function offsetMs(at: Date, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
}

/** [start, end) of the clinic-local calendar day containing `instant`, as ISO instants. */
export function clinicDay(instant: string | Date, timeZone: string): { start: string; end: string } {
  const at = new Date(instant);
  const local = new Date(at.getTime() + offsetMs(at, timeZone));
  const midnightUtc = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  const start = midnightUtc - offsetMs(new Date(midnightUtc), timeZone);
  const nextMidnight = midnightUtc + 86_400_000;
  const end = nextMidnight - offsetMs(new Date(nextMidnight), timeZone);
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}
