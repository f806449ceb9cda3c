/**
 * Small display helpers. Times are shown in the patient's own time zone, as 24-hour "HH:MM",
 * built by hand so that the text does not depend on the browser's locale.
 */
import { formatHumanName } from '@medplum/core';
import type { CodeableConcept, HumanName } from '@medplum/fhirtypes';

const pad = (n: number) => String(n).padStart(2, '0');

/** A person's display name (text, else given + family), or a fallback. */
export function nameOf(person: { name?: HumanName[] } | undefined, fallback = 'Unknown provider'): string {
  const name = person?.name?.[0];
  if (!name) return fallback;
  return name.text || formatHumanName(name) || fallback;
}

/** "YYYY-MM-DD" of a date in local time (the value of an <input type="date">). */
export function localDay(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "09:30" in local time. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "Tue 3 Mar 2026, 09:30" in local time. */
export function dateAndTime(iso: string | undefined): string {
  if (!iso) return 'No time set';
  const d = new Date(iso);
  const day = d.toLocaleDateString('en-AU', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  return `${day}, ${clockTime(iso)}`;
}

/** The text of a CodeableConcept list (e.g. a role's specialty). */
export function conceptText(concepts: CodeableConcept[] | undefined): string {
  return (concepts ?? []).map((c) => c.text || c.coding?.[0]?.display || c.coding?.[0]?.code).filter(Boolean).join(', ');
}
