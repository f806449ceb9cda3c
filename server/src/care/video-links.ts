/**
 * Video room links are for the appointment's participants: the patient, the provider (named
 * directly or through one of their PractitionerRoles) and booking staff. Everyone else who may
 * see the Appointment sees it without the link.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { Caller } from '../context.ts';
import type { Queryable } from '../db/database.ts';
import type { StoredVersion } from '../fhir/repo/repository.ts';
import { VIRTUAL_SERVICE_URL } from '../scheduling/codes.ts';

const STAFF = new Set(['receptionist', 'admin']);

export class VideoLinkFilter {
  private readonly caller: Caller;
  /** "Type/id" references that make the caller a participant (own resource and roles). */
  private identities: Promise<Set<string>> | undefined;

  constructor(caller: Caller) {
    this.caller = caller;
  }

  async apply(versions: StoredVersion[], q: Queryable): Promise<StoredVersion[]> {
    const caller = this.caller;
    // Booking staff and backend services (no role) see the links.
    if (!caller.role || STAFF.has(caller.role)) return versions;
    if (!versions.some((v) => v.type === 'Appointment' && v.content?.includes(VIRTUAL_SERVICE_URL))) return versions;
    const me = await (this.identities ??= this.loadIdentities(q));
    return versions.map((v) => {
      if (v.type !== 'Appointment' || !v.content?.includes(VIRTUAL_SERVICE_URL)) return v;
      const appointment = JSON.parse(v.content) as Appointment;
      const participant = (appointment.participant ?? []).some((p) => p.actor?.reference && me.has(p.actor.reference));
      if (participant) return v;
      const hidden = { ...appointment, extension: appointment.extension?.filter((e) => e.url !== VIRTUAL_SERVICE_URL) };
      if (!hidden.extension?.length) delete hidden.extension;
      return { ...v, content: JSON.stringify(hidden) };
    });
  }

  private async loadIdentities(q: Queryable): Promise<Set<string>> {
    const out = new Set<string>();
    if (this.caller.fhirUser) out.add(this.caller.fhirUser);
    if (this.caller.patient) out.add(`Patient/${this.caller.patient}`);
    const practitioner = /^Practitioner\/([^/]+)$/.exec(this.caller.fhirUser ?? '')?.[1];
    if (practitioner) {
      const { rows } = await q.query<{ res_id: string }>(
        `SELECT res_id FROM idx_reference
          WHERE res_type = 'PractitionerRole' AND param = 'practitioner' AND target_type = 'Practitioner' AND target_id = $1`,
        [practitioner],
        'care_practitioner_roles',
      );
      for (const r of rows) out.add(`PractitionerRole/${r.res_id}`);
    }
    return out;
  }
}
