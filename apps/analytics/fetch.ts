/**
 * Reading the raw rows the dashboard counts: searches and history, every page followed, with
 * `_elements` so the server sends only the fields we group by.
 */
import type { MedplumClient } from '@medplum/core';
import type { Appointment, Bundle, Invoice, Location, Parameters, ParametersParameter, Patient, Resource } from '@medplum/fhirtypes';
import type { MonthWindow } from './months.ts';

const PAGE = '1000';

/** Every resource of a Bundle and of the pages its `next` links lead to. */
async function allPages<T extends Resource>(medplum: MedplumClient, first: Bundle<T>): Promise<T[]> {
  const out: T[] = [];
  let bundle: Bundle<T> | undefined = first;
  while (bundle) {
    for (const e of bundle.entry ?? []) if (e.resource) out.push(e.resource);
    const next: string | undefined = bundle.link?.find((l) => l.relation === 'next')?.url;
    bundle = next ? await medplum.get<Bundle<T>>(next) : undefined;
  }
  return out;
}

/** Appointments starting inside the window (all statuses). */
export async function appointmentsIn(medplum: MedplumClient, window: MonthWindow): Promise<Appointment[]> {
  const query = new URLSearchParams([
    ['date', `ge${window.from}`], ['date', `lt${window.to}`],
    ['_elements', 'status,start,participant,reasonCode'], ['_count', PAGE],
  ]);
  return allPages(medplum, await medplum.search('Appointment', query));
}

/** Invoices dated inside the window. */
export async function invoicesIn(medplum: MedplumClient, window: MonthWindow): Promise<Invoice[]> {
  const query = new URLSearchParams([
    ['date', `ge${window.from}`], ['date', `lt${window.to}`],
    ['_elements', 'status,date,totalGross,totalNet'], ['_count', PAGE],
  ]);
  return allPages(medplum, await medplum.search('Invoice', query));
}

/**
 * Patient records created inside the window: FHIR keeps no creation date, but the type's
 * history does, as each record's first version.
 */
export async function patientsCreatedIn(medplum: MedplumClient, window: MonthWindow): Promise<Patient[]> {
  const url = medplum.fhirUrl('Patient', '_history');
  url.searchParams.set('_since', `${window.from}T00:00:00Z`);
  url.searchParams.set('_count', PAGE);
  const versions = await allPages(medplum, await medplum.get<Bundle<Patient>>(url));
  return versions.filter((p) => p.meta?.versionId === '1');
}

/** The centres (directory data, readable by every signed-in user). */
export async function centres(medplum: MedplumClient): Promise<Location[]> {
  return allPages(medplum, await medplum.search('Location', { _count: PAGE, _elements: 'name' }));
}

/** One diagnosis in the server's de-identified counts. */
export interface DiagnosisRow {
  key: string;
  label: string;
  count: number;
  patients: number;
  /** "YYYY-MM" → records that month. */
  months: Map<string, number>;
}

export interface Diagnoses {
  rows: DiagnosisRow[];
  /** Records of diagnoses left unnamed (seen in fewer than `minimumPatients` patients). */
  suppressed: { count: number; diagnoses: number };
  minimumPatients: number;
}

/**
 * Diagnosis counts for the window (and one centre), from the server's `Condition/$diagnosis-counts`:
 * managers never see Condition records themselves, only these de-identified counts.
 */
export async function diagnosesIn(medplum: MedplumClient, window: MonthWindow, centre?: string): Promise<Diagnoses> {
  const query = new URLSearchParams([['from', window.from], ['to', window.to], ...(centre ? [['location', centre]] : [])]);
  const result = await medplum.get<Parameters>(medplum.fhirUrl('Condition', '$diagnosis-counts').toString() + `?${query}`);
  const params = result.parameter ?? [];
  const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
  const rows = params.filter((p) => p.name === 'diagnosis').map((d): DiagnosisRow => {
    const coding = part(d, 'code')?.valueCoding;
    const label = coding?.display ?? coding?.code ?? part(d, 'text')?.valueString ?? 'Unnamed';
    return {
      key: coding ? `${coding.system}|${coding.code}` : `text:${label}`,
      label,
      count: part(d, 'count')?.valueInteger ?? 0,
      patients: part(d, 'patients')?.valueInteger ?? 0,
      months: new Map((d.part ?? []).filter((x) => x.name === 'month').map((m) => [part(m, 'period')?.valueString ?? '', part(m, 'count')?.valueInteger ?? 0])),
    };
  });
  const suppressed = params.find((p) => p.name === 'suppressed');
  return {
    rows,
    suppressed: { count: part(suppressed, 'count')?.valueInteger ?? 0, diagnoses: part(suppressed, 'diagnoses')?.valueInteger ?? 0 },
    minimumPatients: params.find((p) => p.name === 'minimum-patients')?.valueInteger ?? 0,
  };
}
