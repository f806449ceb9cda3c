import { describe, expect, it } from 'vitest';
import { parseScope, scopeCovered } from './scopes.ts';

describe('SMART scope parsing', () => {
  it.each([
    ['patient/*.read', 'patient', '*', 'rs'],
    ['user/Appointment.write', 'user', 'Appointment', 'cud'],
    ['system/Patient.*', 'system', 'Patient', 'cruds'],
    ['patient/Appointment.cruds', 'patient', 'Appointment', 'cruds'],
    ['user/Observation.rs', 'user', 'Observation', 'rs'],
  ])('%s', (scope, context, type, letters) => {
    const g = parseScope(scope)!;
    expect(g).toMatchObject({ context, type });
    expect([...g.perms].sort().join('')).toBe([...letters].sort().join(''));
  });

  it('parses v2 constraints and refuses malformed scopes', () => {
    expect(parseScope('patient/Observation.rs?category=laboratory&code=http://loinc.org|1234-5')?.constraints).toEqual([
      ['category', 'laboratory'], ['code', 'http://loinc.org|1234-5'],
    ]);
    for (const bad of ['patient/Observation.sr', 'patient/Observation.read?category=x', 'doctor/*.read', 'patient/observation.rs', 'patient/*.', 'openid', 'patient/Observation.rs?=x']) {
      expect(parseScope(bad), bad).toBeUndefined();
    }
  });

  it('knows when a scope asks no more than a registered one', () => {
    expect(scopeCovered('system/Patient.rs', ['system/*.rs'])).toBe(true);
    expect(scopeCovered('system/Patient.r', ['system/Patient.read'])).toBe(true);
    expect(scopeCovered('system/Patient.cruds', ['system/*.rs'])).toBe(false);
    expect(scopeCovered('user/Patient.rs', ['system/*.rs'])).toBe(false);
    expect(scopeCovered('system/Observation.rs', ['system/Observation.rs?category=laboratory'])).toBe(false);
    expect(scopeCovered('system/Observation.rs?category=laboratory', ['system/Observation.rs'])).toBe(true);
  });
});
