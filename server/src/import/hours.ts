/** Working hours in provider_centres.csv: day lists and ranges (`Mon-Fri`, `Sat,Sun`) and HH:MM times. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

function day(name: string): Weekday | undefined {
  const d = name.trim().toLowerCase() as Weekday;
  return WEEKDAYS.includes(d) ? d : undefined;
}

/** `Mon-Fri`, `Sat,Sun`, `Mon-Sun`, `Tue` → weekdays in week order; a message when malformed. */
export function parseDays(text: string): Weekday[] | string {
  const out = new Set<Weekday>();
  if (!text.trim()) return 'days is empty';
  for (const part of text.split(',')) {
    const [from, to, ...rest] = part.split('-');
    const a = day(from);
    const b = to === undefined ? a : day(to);
    if (!a || !b || rest.length) return `days "${text}" must be Mon…Sun, a range such as Mon-Fri, or a list such as Sat,Sun`;
    const i = WEEKDAYS.indexOf(a);
    const j = WEEKDAYS.indexOf(b);
    if (j < i) return `days range "${part.trim()}" runs backwards`;
    for (let k = i; k <= j; k++) out.add(WEEKDAYS[k]);
  }
  return WEEKDAYS.filter((d) => out.has(d));
}

/** `9:00` or `09:00` → `09:00:00` (FHIR time); undefined when not a wall-clock time. */
export function parseTime(text: string): string | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return undefined;
  return `${m[1].padStart(2, '0')}:${m[2]}:00`;
}
