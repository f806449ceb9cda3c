import type { Patient } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../definitions.ts';
import { extractIndexRows } from './extract.ts';
import { stringCoverage, stringSearchParams } from './string-coverage.ts';

beforeAll(() => {
  loadDefinitions();
});

describe('string parameters that overlap', () => {
  it('are found from the per-type expressions', () => {
    expect(stringSearchParams('Patient', 'name')).toEqual(['name', 'family', 'given']);
    expect([...(stringCoverage('Patient').get('name')?.coveredParts ?? [])].sort()).toEqual(['family', 'given']);
    expect(stringSearchParams('Organization', 'address').sort()).toEqual(['address', 'address-city', 'address-country', 'address-postalcode', 'address-state']);
    expect(stringSearchParams('Patient', 'family')).toEqual(['family']);
    // phonetic rows are sound codes: they neither cover nor stand in for text
    expect(stringSearchParams('Patient', 'phonetic')).toEqual(['phonetic']);
    expect(stringCoverage('Observation').size).toBe(0);
  });

  it('index each value once: the wide parameter keeps only the parts no narrower one has', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      id: 'x',
      name: [{ text: 'Dr Eve Smith', prefix: ['Dr'], family: 'Smith', given: ['Eve'] }],
      address: [{ line: ['1 Main St'], district: 'Eastern', city: 'Randwick', state: 'NSW', postalCode: '2031', country: 'AU' }],
    };
    const rows = extractIndexRows(patient).string.filter((r) => r.param !== 'phonetic');
    const of = (param: string) => rows.filter((r) => r.param === param).map((r) => r.exact);
    expect(of('name')).toEqual(['Dr Eve Smith', 'Dr']);
    expect(of('family')).toEqual(['Smith']);
    expect(of('given')).toEqual(['Eve']);
    expect(of('address')).toEqual(['1 Main St', 'Eastern']);
    expect(of('address-city')).toEqual(['Randwick']);
    expect(of('address-postalcode')).toEqual(['2031']);
  });
});
