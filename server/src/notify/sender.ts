/**
 * Delivers Communications that ask to be sent: status `preparation` with medium SMS
 * (v3 SMSWRIT) or e-mail (EMAILWRIT). Each is sent at most once: the send is claimed in
 * job_delivery before it goes out; a retry that finds the claim unfinished (the process died
 * mid-send) cannot know whether it left, so it marks the Communication `unknown` instead of
 * sending twice. The outcome is recorded on the Communication: `completed` with the Twilio SID,
 * or `not-done` with the reason.
 *
 * Who may make the platform send: a Communication asking to be sent costs money (SMS) and speaks
 * in the clinic's name to whoever its recipient is, so it is sent only when the version asking
 * (the current one, status `preparation`) was written by
 *   - the platform itself (no author: server code, imports, Twilio callbacks),
 *   - one of our bots (author `bot:<name>` of a bot listed in bots/index.ts), or
 *   - a staff user: an account whose role is anything but `patient` (providers, receptionists,
 *     admins; the role table decides which of them may create Communications at all).
 * Patients (who may create Communications in their own compartment, e.g. messages to the clinic)
 * and outside backend services cannot: such a Communication is left unsent and marked `not-done`
 * with the reason, so nobody can text or e-mail arbitrary recipients through the platform.
 */
import type { Communication, ContactPoint, Extension, Patient, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { claimSend, finishSend, releaseSend } from '../jobs/idempotency.ts';
import type { JobServices } from '../jobs/services.ts';
import { bots } from '../../../bots/index.ts';
import { log } from '../log.ts';
import { SmsRefusedError } from './twilio.ts';

export const SEND_CRITERIA = 'Communication?status=preparation&medium=SMSWRIT,EMAILWRIT';
export const TWILIO_SID_SYSTEM = 'urn:clinic:twilio-message-sid';
export const TWILIO_STATUS_URL = 'http://clinic.example.org/fhir/StructureDefinition/twilio-status';
export const STATUS_CALLBACK_PATH = '/notify/twilio/status';

function mediumOf(c: Communication): 'sms' | 'email' | undefined {
  const codes = c.medium?.flatMap((m) => m.coding?.map((x) => x.code) ?? []) ?? [];
  return codes.includes('SMSWRIT') ? 'sms' : codes.includes('EMAILWRIT') ? 'email' : undefined;
}

function contact(telecom: ContactPoint[] | undefined, kind: 'sms' | 'email'): string | undefined {
  const usable = telecom?.filter((t) => t.value && (kind === 'email' ? t.system === 'email' : t.system === 'sms' || t.system === 'phone')) ?? [];
  return (usable.find((t) => t.use === 'mobile') ?? usable[0])?.value;
}

/** The recipient's phone number or e-mail address (PractitionerRole falls back to its Practitioner). */
async function addressOf(repo: FhirRepository, c: Communication, kind: 'sms' | 'email'): Promise<string | undefined> {
  for (const r of c.recipient ?? []) {
    const [type, id] = (r.reference ?? '').split('/');
    if (!id || !['Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson'].includes(type)) continue;
    const res = await repo.readResource<Patient | Practitioner | PractitionerRole>(type, id).catch(() => undefined);
    let found = contact(res?.telecom, kind);
    if (!found && res?.resourceType === 'PractitionerRole' && res.practitioner?.reference) {
      const p = await repo.readResource<Practitioner>('Practitioner', res.practitioner.reference.split('/')[1]).catch(() => undefined);
      found = contact(p?.telecom, kind);
    }
    if (found) return found;
  }
  return undefined;
}

function statusExtension(status: string): Extension {
  return { url: TWILIO_STATUS_URL, valueCode: status };
}

async function record(repo: FhirRepository, c: Communication, change: Partial<Communication>): Promise<void> {
  await repo.update({ ...c, ...change } as Resource, { ifMatch: Number(c.meta?.versionId) });
}

/** Why the author of this version may not have it sent, or undefined when it may (see above). */
export async function sendRefusal(svc: JobServices, c: Communication): Promise<string | undefined> {
  const { rows } = await svc.db.query<{ author: string | null }>(
    'SELECT author FROM resource_history WHERE type = $1 AND id = $2 AND version = $3',
    ['Communication', c.id, Number(c.meta?.versionId)],
    'notify_send_author',
  );
  if (rows.length === 0) return 'The version to send was not found';
  const author = rows[0].author;
  if (author === null) return undefined; // the platform
  if (author.startsWith('bot:')) {
    return bots.some((b) => `bot:${b.name}` === author) ? undefined : 'Written by an unknown bot';
  }
  const { rows: accounts } = await svc.db.query<{ role: string }>(
    'SELECT role FROM account WHERE fhir_user = $1 OR id = $1',
    [author],
    'notify_send_author_role',
  );
  if (accounts.some((a) => a.role !== 'patient')) return undefined;
  return 'Only the clinic (staff, the platform and its bots) may send SMS or e-mail; this Communication was not written by one of them';
}

export async function sendCommunication(svc: JobServices, id: string): Promise<void> {
  const repo = new FhirRepository(systemContext(), svc.db, { referentialIntegrity: false });
  const c = await repo.readResource<Communication>('Communication', id).catch(() => undefined);
  if (!c || c.status !== 'preparation') return; // already handled (or deleted)
  const kind = mediumOf(c);
  if (!kind) return;
  const key = `Communication/${id}`;
  const refusal = await sendRefusal(svc, c);
  if (refusal) {
    log.warn('Communication not sent: its author may not send', { communication: key });
    await record(repo, c, { status: 'not-done', statusReason: { text: refusal } });
    return;
  }
  const claim = await claimSend(svc.db, key, 'send');
  if (claim === 'done') return;
  if (claim === 'in-doubt') {
    await record(repo, c, { status: 'unknown', statusReason: { text: 'The sender stopped while sending; not resent, to avoid sending twice' } });
    await finishSend(svc.db, key, 'send', 'in-doubt');
    return;
  }
  const to = await addressOf(repo, c, kind);
  const text = c.payload?.map((p) => p.contentString).filter(Boolean).join('\n\n') ?? '';
  const sent = svc.clock().toISOString();
  if (!to) {
    await record(repo, c, { status: 'not-done', statusReason: { text: `The recipient has no ${kind === 'sms' ? 'phone number' : 'e-mail address'}` } });
    await finishSend(svc.db, key, 'send', 'no-address');
    return;
  }
  try {
    if (kind === 'sms') {
      if (!svc.sms) {
        log.info('SMS not sent: TWILIO_* not configured; recorded only', { communication: key });
        await record(repo, c, { status: 'not-done', sent, statusReason: { text: 'SMS is not configured (TWILIO_* unset): recorded and logged only' } });
        await finishSend(svc.db, key, 'send', 'not-configured');
        return;
      }
      const result = await svc.sms.send({ to, body: text, statusCallback: `${svc.config.baseUrl}${STATUS_CALLBACK_PATH}` });
      await record(repo, c, {
        status: 'completed',
        sent,
        identifier: [...(c.identifier ?? []), { system: TWILIO_SID_SYSTEM, value: result.sid }],
        extension: [...(c.extension ?? []).filter((e) => e.url !== TWILIO_STATUS_URL), statusExtension(result.status)],
      });
      await finishSend(svc.db, key, 'send', result.sid);
    } else {
      await svc.email.send({ to, subject: c.topic?.text ?? 'Message from the clinic', text });
      await record(repo, c, { status: 'completed', sent });
      await finishSend(svc.db, key, 'send', 'email');
    }
  } catch (err) {
    const e = err as { responseCode?: number; code?: string; message?: string };
    if (err instanceof SmsRefusedError || (typeof e.responseCode === 'number' && e.responseCode >= 500)) {
      // Refused for good: nothing went out; record the failure.
      await record(repo, c, { status: 'not-done', sent, statusReason: { text: `Refused by the ${kind === 'sms' ? 'SMS' : 'mail'} provider: ${e.message ?? 'error'}`.slice(0, 500) } });
      await finishSend(svc.db, key, 'send', 'refused');
      return;
    }
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ECONNECTION' || (typeof e.responseCode === 'number' && e.responseCode >= 400)) {
      // Certainly not sent (no connection, or a temporary refusal): let the retry send it.
      await releaseSend(svc.db, key, 'send');
    }
    throw err;
  }
}
