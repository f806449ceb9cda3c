/** The Patients the CORE benchmark and bench:compare write, read and search for. */
import type { BenchServer } from './harness.ts';

export const FHIR_JSON = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };

let serial = 0;

/** A new bench Patient (families Bench0..Bench996, so a name search finds a few); `id` for PUTs. */
export function benchPatient(id?: string): Record<string, unknown> {
  const n = ++serial;
  return {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    identifier: [{ system: 'urn:bench:mrn', value: `mrn-${n}` }],
    name: [{ family: `Bench${n % 997}`, given: ['Load', `Test${n % 13}`] }],
    gender: n % 2 ? 'female' : 'male',
    birthDate: `19${50 + (n % 50)}-0${1 + (n % 9)}-1${n % 10}`,
    telecom: [{ system: 'phone', value: `+61 2 9${String(n).padStart(7, '0')}` }],
    address: [{ line: [`${n} Bench Street`], city: 'Randwick', state: 'NSW', postalCode: '2031' }],
  };
}

/** Creates `count` Patients through transaction Bundles of 100; returns their ids. */
export async function createPatients(server: BenchServer, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < count; done += 100) {
    const entry = Array.from({ length: Math.min(100, count - done) }, () => ({ resource: benchPatient(), request: { method: 'POST', url: 'Patient' } }));
    const res = await fetch(server.fhir, { method: 'POST', headers: FHIR_JSON, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
    if (res.status !== 200) throw new Error(`setup transaction failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { entry: { response: { location: string } }[] };
    for (const e of body.entry) ids.push(e.response.location.split('/')[5]);
  }
  return ids;
}
