/**
 * The dashboard's time window: the last 12 calendar months, the current one included. Months
 * are keyed "YYYY-MM" and taken from the wall-clock date written in each FHIR instant, so an
 * appointment at 09:00 on the 1st (clinic time) counts in the clinic's month, whatever the
 * browser's time zone.
 */

export interface MonthWindow {
  /** Oldest first, e.g. ["2025-12", …, "2026-11"]. */
  months: string[];
  /** First day of the oldest month, "YYYY-MM-DD". */
  from: string;
  /** First day of the month after the newest, "YYYY-MM-DD" (exclusive). */
  to: string;
}

const key = (year: number, monthIndex: number) => {
  const d = new Date(Date.UTC(year, monthIndex, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

export function lastTwelveMonths(today = new Date()): MonthWindow {
  const year = today.getFullYear();
  const month = today.getMonth();
  const months = Array.from({ length: 12 }, (_, i) => key(year, month - 11 + i));
  return { months, from: `${months[0]}-01`, to: `${key(year, month + 1)}-01` };
}

/** "2026-03-04T09:00:00+11:00" → "2026-03". */
export function monthOf(instant: string | undefined): string | undefined {
  return instant && /^\d{4}-\d{2}/.test(instant) ? instant.slice(0, 7) : undefined;
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2026-03" → "Mar 2026" (fixed names: the same in every browser and locale). */
export function monthLabel(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return `${MONTH_NAMES[m - 1]} ${y}`;
}
