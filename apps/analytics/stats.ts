/** Grouping the fetched rows into the dashboard's numbers (pure functions, no I/O). */
import type { Appointment, CodeableConcept, Invoice, Patient } from '@medplum/fhirtypes';
import { monthOf } from './months.ts';

/** The visit statuses a manager follows; other statuses (proposed, pending…) are counted as "other". */
export const VISIT_STATUSES = ['booked', 'fulfilled', 'cancelled', 'noshow'] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number] | 'other';

export interface MonthRow {
  month: string;
  counts: Record<VisitStatus, number>;
  total: number;
}

export interface Tally {
  key: string;
  count: number;
}

const emptyCounts = (): Record<VisitStatus, number> => ({ booked: 0, fulfilled: 0, cancelled: 0, noshow: 0, other: 0 });

export function visitsByMonth(appointments: Appointment[], months: string[]): MonthRow[] {
  const rows = new Map(months.map((month) => [month, { month, counts: emptyCounts(), total: 0 }]));
  for (const a of appointments) {
    const row = rows.get(monthOf(a.start) ?? '');
    if (!row) continue;
    const status: VisitStatus = (VISIT_STATUSES as readonly string[]).includes(a.status) ? (a.status as VisitStatus) : 'other';
    row.counts[status]++;
    row.total++;
  }
  return [...rows.values()];
}

/** Appointments that name a participant of `type` ("Location", "Practitioner"), per reference. */
export function byParticipant(appointments: Appointment[], type: string): Tally[] {
  return tally(appointments.flatMap((a) => {
    const refs = (a.participant ?? []).map((p) => p.actor?.reference).filter((r): r is string => !!r?.startsWith(`${type}/`));
    return [...new Set(refs)];
  }));
}

/** Appointments per provider: the Practitioner taking part, else the PractitionerRole. */
export function byProvider(appointments: Appointment[]): Tally[] {
  const refOf = (a: Appointment, type: string) => (a.participant ?? []).map((p) => p.actor?.reference).find((r) => r?.startsWith(`${type}/`));
  return tally(appointments.map((a) => refOf(a, 'Practitioner') ?? refOf(a, 'PractitionerRole')).filter((r): r is string => !!r));
}

/** Whether an appointment took place at the centre (`Location/id`); every appointment when none is chosen. */
export function atCentre(a: Appointment, centre: string | undefined): boolean {
  return !centre || (a.participant ?? []).some((p) => p.actor?.reference === centre);
}

/** A readable name for a coded reason: its text, else its first coding's display or code. */
export function conceptLabel(c: CodeableConcept): string | undefined {
  const coding = c.coding?.[0];
  return c.text || coding?.display || coding?.code;
}

export function topReasons(appointments: Appointment[], limit = 10): Tally[] {
  const labels = appointments.flatMap((a) => [...new Set((a.reasonCode ?? []).map(conceptLabel).filter((l): l is string => !!l))]);
  return tally(labels).slice(0, limit);
}

export function perMonth(months: string[], instants: (string | undefined)[]): Tally[] {
  const counts = new Map(months.map((m) => [m, 0]));
  for (const i of instants) {
    const m = monthOf(i);
    if (m && counts.has(m)) counts.set(m, (counts.get(m) as number) + 1);
  }
  return [...counts].map(([key, count]) => ({ key, count }));
}

export const newPatientsByMonth = (months: string[], patients: Patient[]) => perMonth(months, patients.map((p) => p.meta?.lastUpdated));

export interface MoneyTotals {
  currency: string;
  invoiced: number;
  paid: number;
  due: number;
  invoices: number;
}

/** Invoiced (issued or balanced), paid (balanced) and still due (issued); drafts and cancelled ones left out. */
export function moneyTotals(invoices: Invoice[]): MoneyTotals {
  const totals: MoneyTotals = { currency: 'AUD', invoiced: 0, paid: 0, due: 0, invoices: 0 };
  for (const inv of invoices) {
    if (inv.status !== 'issued' && inv.status !== 'balanced') continue;
    const money = inv.totalGross ?? inv.totalNet;
    const value = money?.value ?? 0;
    if (money?.currency) totals.currency = money.currency;
    totals.invoices++;
    totals.invoiced += value;
    if (inv.status === 'balanced') totals.paid += value;
    else totals.due += value;
  }
  return totals;
}

/** Counts per key, largest first (ties by key, so the order is stable). */
function tally(keys: string[]): Tally[] {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}
