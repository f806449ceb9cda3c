/**
 * The audit trail's AuditEvents skip the per-write validator (RepositoryOptions.trustedAuditEvents),
 * so this is where they are validated: every shape auditEvent() builds, against the R4 base
 * definitions with the same validator every other write goes through.
 */
import { describe, expect, it } from 'vitest';
import type { Caller, RequestContext } from '../context.ts';
import { validationIssues } from '../fhir/validate.ts';
import { auditEvent, type AuditDetails } from './audit.ts';

const callers: Record<string, Caller | undefined> = {
  'a user with a FHIR identity': { subject: 'acct-1', fhirUser: 'Practitioner/p1', role: 'provider', clientId: 'charting-app', scopes: ['user/*.cruds'] },
  'a backend client (no fhirUser)': { subject: 'client-9', clientId: 'client-9', scopes: ['system/*.rs'] },
  'a patient in a patient app': { subject: 'acct-2', fhirUser: 'Patient/pt1', role: 'patient', clientId: 'booking-app', scopes: ['patient/*.rs'], patient: 'pt1' },
  'no caller (platform)': undefined,
};
const addresses = [undefined, '127.0.0.1', '::ffff:10.0.0.7', '::1'];
const details: AuditDetails[] = [
  { action: 'R', subtype: 'read', entities: ['Patient/pt1'], patients: ['pt1'] },
  { action: 'R', subtype: 'search-type', entities: ['Observation/o1', 'Observation/o2'], patients: ['pt1', 'pt2'], query: 'Observation?subject=Patient/pt1&code=8867-4' },
  { action: 'C', subtype: 'create', entities: ['Condition/c1'], patients: ['pt1'] },
  { action: 'U', subtype: 'update', entities: ['Patient/pt1'], patients: ['pt1'] },
  { action: 'D', subtype: 'delete', entities: ['Encounter/e1'], patients: ['pt2'] },
  { action: 'E', subtype: 'break-glass', entities: [], patients: ['pt3'], description: 'Emergency access: unconscious patient' },
];

describe('the AuditEvents of the audit trail are valid R4', () => {
  for (const [who, caller] of Object.entries(callers)) {
    it(`for ${who}`, () => {
      for (const remoteAddress of addresses) {
        for (const d of details) {
          const ctx: RequestContext = { requestId: 'req-1', caller, remoteAddress };
          const event = { ...auditEvent(ctx, d), id: 'a1', meta: { versionId: '1', lastUpdated: new Date().toISOString() } };
          const errors = validationIssues(event).filter((i) => i.severity === 'error' || i.severity === 'fatal');
          expect(errors, `${d.subtype} from ${remoteAddress ?? 'no address'}`).toEqual([]);
        }
      }
    });
  }

  it('the validator does refuse a broken one (so the checks above can fail)', () => {
    const event = auditEvent({ requestId: 'r', caller: callers['a backend client (no fhirUser)'] }, details[0]);
    const broken = { ...event, action: 'X', recorded: 'yesterday' } as unknown as typeof event;
    expect(validationIssues(broken).filter((i) => i.severity === 'error').length).toBeGreaterThan(0);
  });
});
