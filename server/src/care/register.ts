/**
 * Installs CARE's write hooks and operations: appointments make Consents, Consents make grants,
 * AuditEvents are immutable, and `Patient/$break-glass`. Imported once by the repository module
 * (like scheduling's), so the rules hold whoever writes.
 */
import type { Appointment, Consent } from '@medplum/fhirtypes';
import { registerWriteHook } from '../fhir/repo/hooks.ts';
import { registerOperation } from '../fhir/operations/index.ts';
import { forbidden } from '../fhir/outcomes.ts';
import { onAppointmentWritten } from './appointment-grants.ts';
import { syncGrants } from './grants.ts';
import { breakGlassOperation } from './break-glass.ts';

registerWriteHook({
  name: 'care-appointment-grants',
  types: ['Appointment'],
  afterWrite: (repo, stored, previous) => onAppointmentWritten(repo, stored as Appointment | undefined, previous as Appointment | undefined),
});

registerWriteHook({
  name: 'care-consent-grants',
  types: ['Consent'],
  afterWrite: (repo, stored, previous) => syncGrants(repo.queryable, (stored ?? previous)?.id as string, stored as Consent | undefined),
});

registerWriteHook({
  name: 'care-audit-immutable',
  types: ['AuditEvent'],
  beforeWrite(_repo, _next, previous) {
    if (previous) throw forbidden('AuditEvents cannot be changed or deleted');
  },
});

registerOperation(breakGlassOperation);
