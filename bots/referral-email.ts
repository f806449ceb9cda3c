/**
 * Referral letters: when a ServiceRequest becomes active, the specialist named as its performer
 * (Practitioner, or PractitionerRole and then its Practitioner) is e-mailed the letter, once.
 */
import type { ContactPoint, Patient, Practitioner, PractitionerRole, ServiceRequest } from '@medplum/fhirtypes';
import { BOT_IDENTIFIER_SYSTEM, EMAIL, type Bot, type FhirClient } from './types.ts';

function emailOf(telecom: ContactPoint[] | undefined): string | undefined {
  return telecom?.find((t) => t.system === 'email' && t.value)?.value;
}

function nameOf(r: { name?: { text?: string; given?: string[]; family?: string; prefix?: string[] }[] } | undefined): string {
  const n = r?.name?.[0];
  if (!n) return 'unknown';
  return n.text ?? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/** The e-mail address of a performer reference, looking through a PractitionerRole to its Practitioner. */
async function performerEmail(client: FhirClient, reference: string): Promise<string | undefined> {
  const [type, id] = reference.split('/');
  if (type === 'Practitioner') return emailOf((await client.read<Practitioner>('Practitioner', id)).telecom);
  if (type === 'PractitionerRole') {
    const role = await client.read<PractitionerRole>('PractitionerRole', id);
    const practitioner = role.practitioner?.reference;
    return emailOf(role.telecom) ?? (practitioner ? await performerEmail(client, practitioner) : undefined);
  }
  return undefined;
}

export const referralEmail: Bot = {
  name: 'referral-email',
  description: 'E-mails the referral letter to the specialist when a referral is sent',
  scopes: ['system/ServiceRequest.r', 'system/Practitioner.r', 'system/PractitionerRole.r', 'system/Patient.r', 'system/Communication.c'],
  trigger: { criteria: 'ServiceRequest?status=active' },
  async handler(event, client) {
    const sr = event.resource as ServiceRequest;
    const performer = sr.performer?.find((p) => p.reference)?.reference;
    if (!performer) return;
    const to = await performerEmail(client, performer);
    if (!to) return;
    const patientRef = sr.subject?.reference?.startsWith('Patient/') ? sr.subject.reference : undefined;
    const patient = patientRef ? await client.read<Patient>('Patient', patientRef.slice('Patient/'.length)) : undefined;
    const requesterRef = sr.requester?.reference;
    const requester = requesterRef?.startsWith('Practitioner/') ? await client.read<Practitioner>('Practitioner', requesterRef.slice(13)) : undefined;
    const reason = [sr.code?.text ?? sr.code?.coding?.[0]?.display, ...(sr.reasonCode ?? []).map((c) => c.text ?? c.coding?.[0]?.display)].filter(Boolean);
    const letter = [
      `Referral for ${nameOf(patient)}${patient?.birthDate ? ` (born ${patient.birthDate})` : ''}`,
      `From: ${requester ? nameOf(requester) : sr.requester?.display ?? 'the referring GP'}`,
      reason.length ? `Reason: ${reason.join('; ')}` : undefined,
      '',
      ...(sr.note ?? []).map((n) => n.text),
      '',
      `Reference: ServiceRequest/${sr.id}`,
    ].filter((l) => l !== undefined).join('\n');
    await client.createIfNoneExist(
      {
        resourceType: 'Communication',
        status: 'preparation',
        medium: [{ coding: [EMAIL] }],
        basedOn: [{ reference: `ServiceRequest/${sr.id}` }],
        subject: patientRef ? { reference: patientRef } : undefined,
        recipient: [{ reference: performer }],
        sender: { display: 'referral-email' },
        topic: { text: `Referral: ${nameOf(patient)}` },
        payload: [{ contentString: letter }],
        sent: event.now.toISOString(),
      },
      { system: BOT_IDENTIFIER_SYSTEM, value: `referral|ServiceRequest/${sr.id}` },
    );
  },
};
