/** Required code bindings and empty arrays (bindings.ts), beside what @medplum/core validates. */
import { getDataType } from '@medplum/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowedCodes, bindingIssues } from './bindings.ts';
import { getResourceTypes, loadDefinitions } from './definitions.ts';

beforeAll(() => loadDefinitions());

describe('required bindings', () => {
  it('lists the codes of R4 ValueSets from their code systems, and gives up on external ones', () => {
    expect([...(allowedCodes('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1') ?? [])].sort()).toEqual(['female', 'male', 'other', 'unknown']);
    expect(allowedCodes('http://hl7.org/fhir/ValueSet/appointmentstatus')).toContain('booked');
    // Nested concepts count too (request-status has no nesting; observation-status has "amended" > "corrected").
    expect(allowedCodes('http://hl7.org/fhir/ValueSet/observation-status')).toContain('corrected');
    // MIME types (BCP 13) and currencies (ISO 4217) are not listed in the definitions: not checked.
    expect(allowedCodes('http://hl7.org/fhir/ValueSet/mimetypes')).toBeNull();
    expect(allowedCodes('http://example.org/no-such-valueset')).toBeNull();
  });

  it('can check nearly every required binding of a code element in R4', () => {
    let all = 0;
    let checkable = 0;
    const seen = new Set<string>();
    const visit = (type: string) => {
      if (seen.has(type)) return;
      seen.add(type);
      for (const el of Object.values(getDataType(type).elements ?? {})) {
        for (const t of el.type ?? []) {
          if (t.code === 'code' && el.binding?.strength === 'required' && el.binding.valueSet) {
            all++;
            if (allowedCodes(el.binding.valueSet)) checkable++;
          } else if (/^[A-Z]/.test(t.code)) visit(t.code);
        }
      }
    };
    for (const type of getResourceTypes()) visit(type);
    expect(all).toBeGreaterThan(300);
    expect(checkable / all).toBeGreaterThan(0.95);
  });

  it('names each bad code by its path, in resources, datatypes, choice elements and contained resources', () => {
    const issues = bindingIssues({
      resourceType: 'Patient',
      gender: 'robot',
      telecom: [{ system: 'phone', value: '1' }, { system: 'telegram', value: '2' }],
      extension: [{ url: 'http://x', valueQuantity: { value: 1, comparator: '<<' } }],
      contained: [{ resourceType: 'Observation', status: 'unsure', code: { text: 'x' } }],
    } as never);
    expect(issues.map((i) => i.expression?.[0])).toEqual([
      'Patient.gender',
      'Patient.telecom[1].system',
      'Patient.extension[0].valueQuantity.comparator',
      'Patient.contained[0].status',
    ]);
    expect(issues.every((i) => i.code === 'code-invalid' && i.severity === 'error')).toBe(true);
  });

  it('a required CodeableConcept or Coding must carry a coding from the value set', () => {
    const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    const condition = (clinicalStatus: unknown) => ({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, clinicalStatus } as never);
    expect(bindingIssues(condition({ coding: [{ system: clinical, code: 'active' }] }))).toEqual([]);
    // One good coding among others is enough.
    expect(bindingIssues(condition({ coding: [{ system: 'http://example.org', code: 'x' }, { system: clinical, code: 'remission' }] }))).toEqual([]);
    for (const bad of [{ coding: [{ system: clinical, code: 'cured' }] }, { coding: [{ code: 'active' }] }, { text: 'active' }]) {
      const issues = bindingIssues(condition(bad));
      expect(issues.map((i) => [i.code, i.expression?.[0]])).toEqual([['code-invalid', 'Condition.clinicalStatus']]);
    }
  });

  it('passes valid codes and leaves example and extensible bindings alone', () => {
    expect(bindingIssues({ resourceType: 'Patient', gender: 'unknown', maritalStatus: { coding: [{ code: 'anything' }] }, communication: [{ language: { coding: [{ code: 'xx' }] } }] } as never)).toEqual([]);
  });
});

describe('empty arrays', () => {
  it('are refused at any depth, primitive extension arrays included', () => {
    const issues = bindingIssues({ resourceType: 'Patient', name: [{ given: [] }], identifier: [], _birthDate: { extension: [] } } as never);
    expect(issues.map((i) => i.expression?.[0]).sort()).toEqual(['Patient._birthDate.extension', 'Patient.identifier', 'Patient.name[0].given'].sort());
  });
});
