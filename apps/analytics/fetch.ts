/**
 * Reading the raw rows the dashboard counts: searches and history, every page followed, with
 * `_elements` so the server sends only the fields we group by.
 */
import type { MedplumClient } from '@medplum/core';
import type { Appointment, Bundle, Invoice, Location, Patient, Resource } from '@medplum/fhirtypes';
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
