/**
 * Consent resources as the record of care relationships: building the Consent that an
 * appointment or a break-glass access creates, and reading what a Consent grants.
 */
import type { Consent, Reference } from '@medplum/fhirtypes';
import { dateRange } from '../fhir/dates.ts';

export const BREAK_GLASS_REASON_URL = 'https://fhir-clinic.example/StructureDefinition/break-glass-reason';
/** The appointment that made a Consent (R4's sourceReference may not point at an Appointment). */
export const SOURCE_APPOINTMENT_URL = 'https://fhir-clinic.example/StructureDefinition/consent-source-appointment';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export type GrantKind = 'appointment' | 'break-glass';

/** A permit Consent letting `practitionerId` see `patientId`'s history. */
export function grantConsent(options: {
  patientId: string;
  practitionerId: string;
  kind: GrantKind;
  start: Date;
  end?: Date;
  source?: Reference;
  reason?: string;
}): Consent {
  const period: { start: string; end?: string } = { start: options.start.toISOString() };
  if (options.end) period.end = options.end.toISOString();
  const consent: Consent = {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${options.patientId}` },
    dateTime: options.start.toISOString(),
    // Appointment grants follow the patient's opt-in by booking; break-glass is an override.
    policyRule: {
      coding: [options.kind === 'break-glass' ? { system: ACT_CODE, code: 'EMRGONLY', display: 'emergency only' } : { system: ACT_CODE, code: 'OPTIN', display: 'opt-in' }],
    },
    provision: {
      type: 'permit',
      period,
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP', display: 'primary information recipient' }] },
          reference: { reference: `Practitioner/${options.practitionerId}` },
        },
      ],
    },
  };
  const extension: NonNullable<Consent['extension']> = [];
  if (options.source) extension.push({ url: SOURCE_APPOINTMENT_URL, valueReference: options.source });
  if (options.kind === 'break-glass') {
    consent.provision!.purpose = [{ system: ACT_REASON, code: 'ETREAT', display: 'Emergency Treatment' }];
    if (options.reason) extension.push({ url: BREAK_GLASS_REASON_URL, valueString: options.reason });
  }
  if (extension.length) consent.extension = extension;
  return consent;
}

export interface GrantRow {
  patientId: string;
  practitionerId: string;
  kind: GrantKind;
  starts: string;
  ends: string;
  active: boolean;
}

/** What a Consent grants, one row per practitioner actor (none for other Consents). */
export function grantsOf(consent: Consent): GrantRow[] {
  const patientId = /^Patient\/([^/]+)$/.exec(consent.patient?.reference ?? '')?.[1];
  if (!patientId) return [];
  const provision = consent.provision;
  const kind: GrantKind = provision?.purpose?.some((p) => p.system === ACT_REASON && p.code === 'ETREAT') ? 'break-glass' : 'appointment';
  const active = consent.status === 'active' && provision?.type !== 'deny';
  const rows: GrantRow[] = [];
  for (const actor of provision?.actor ?? []) {
    const practitionerId = /^Practitioner\/([^/]+)$/.exec(actor.reference?.reference ?? '')?.[1];
    if (!practitionerId) continue;
    rows.push({
      patientId,
      practitionerId,
      kind,
      starts: (provision?.period?.start && dateRange(provision.period.start)?.low) || '-infinity',
      ends: (provision?.period?.end && dateRange(provision.period.end)?.high) || 'infinity',
      active,
    });
  }
  return rows;
}
