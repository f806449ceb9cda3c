import fs from 'node:fs';
import type { Patient } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { getResourceTypes, loadDefinitions } from '../definitions.ts';
import { extractIndexRows } from './extract.ts';
import { isCoveredStringParam, stringCoverage, stringRowsOf } from './string-coverage.ts';

beforeAll(() => {
  loadDefinitions();
});

describe('string parameters that overlap', () => {
  it('are found from the per-type expressions', () => {
    expect(stringRowsOf('Patient', 'family')).toEqual({ param: 'name', part: 'family' });
    expect(stringRowsOf('Patient', 'given')).toEqual({ param: 'name', part: 'given' });
    expect(stringRowsOf('Organization', 'address-postalcode')).toEqual({ param: 'address', part: 'postalCode' });
    expect(stringRowsOf('Patient', 'name')).toEqual({ param: 'name' });
    expect([...(stringCoverage('Patient').taggedParts.get('name') ?? [])].sort()).toEqual(['family', 'given']);
    // phonetic rows are sound codes: they neither cover nor stand in for text
    expect(stringRowsOf('Patient', 'phonetic')).toEqual({ param: 'phonetic' });
    expect(isCoveredStringParam('Observation', 'code')).toBe(false);
  });

  it('index each value once, as a row of the wide parameter tagged with its part', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      id: 'x',
      name: [{ text: 'Dr Eve Smith', prefix: ['Dr'], family: 'Smith', given: ['Eve'] }],
      address: [{ line: ['1 Main St'], district: 'Eastern', city: 'Randwick', state: 'NSW', postalCode: '2031', country: 'AU' }],
    };
    const rows = extractIndexRows(patient).string.filter((r) => r.param !== 'phonetic');
    expect(rows.map((r) => `${r.param}.${r.part ?? '-'}=${r.exact}`).sort()).toEqual([
      'name.-=Dr Eve Smith', 'name.family=Smith', 'name.given=Eve', 'name.-=Dr',
      'address.-=1 Main St', 'address.city=Randwick', 'address.-=Eastern', 'address.state=NSW', 'address.postalCode=2031', 'address.country=AU',
    ].sort());
    expect(rows).toHaveLength(10);
    expect(rows.some((r) => ['family', 'given', 'address-city'].includes(r.param))).toBe(false);
  });

  it('migration 071 converts exactly the overlaps the code finds', () => {
    const sql = fs.readFileSync(new URL('../../db/migrations/071_string_parts.sql', import.meta.url), 'utf8');
    const inMigration = [...sql.matchAll(/\('(\w+)', '([\w-]+)', '([\w-]+)', '(\w+)'\)/g)].map((m) => m.slice(1).join(' ')).sort();
    const inCode = getResourceTypes().flatMap((t) => [...stringCoverage(t).rowsOf].map(([narrow, { param, part }]) => `${t} ${param} ${narrow} ${part}`)).sort();
    expect(inMigration).toEqual(inCode);
    expect(inCode.length).toBeGreaterThan(20);
  });
});
