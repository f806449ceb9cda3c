/**
 * FHIR date, dateTime and instant values as the time range they cover: "2024" is the whole year,
 * "2024-03-05" the whole day, "2024-03-05T10:00:00Z" that second. Values without a zone are read
 * as UTC.
 */
export interface DateRange {
  /** ISO instant, or "-infinity" for an open start. */
  low: string;
  /** ISO instant, or "infinity" for an open end. */
  high: string;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** The range a FHIR date/dateTime/instant string covers, or undefined when it is malformed. */
export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined) {
    const daysInMonth = new Date(Date.UTC(year, month as number, 0)).getUTCDate();
    if (day < 1 || day > daysInMonth) return undefined;
  }
  if (h === undefined) {
    // Partial date: the whole year, month or day.
    const start = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
    const end =
      day !== undefined
        ? Date.UTC(year, (month as number) - 1, day + 1)
        : month !== undefined
          ? Date.UTC(year, month, 1)
          : Date.UTC(year + 1, 0, 1);
    return { low: iso(start), high: iso(end - 1) };
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s ? Number(s) : 0;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const offsetMinutes = zone && zone !== 'Z' ? zoneOffsetMinutes(zone) : 0;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const start = Date.UTC(year, (month as number) - 1, day as number, hour, minute, second, ms) - offsetMinutes * 60_000;
  // Precision: to the minute without seconds, to the second without a fraction, else exact.
  const width = s === undefined ? 60_000 : frac === undefined ? 1000 : 1;
  return { low: iso(start), high: iso(start + width - 1) };
}

function zoneOffsetMinutes(zone: string): number {
  const sign = zone.startsWith('-') ? -1 : 1;
  const [hh, mm] = zone.slice(1).split(':').map(Number);
  return sign * (hh * 60 + mm);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
