/**
 * Announcements from admins: a Communication with category `announcement`, status
 * `preparation` and a centre (Organization) as recipient is copied to every patient of that
 * centre (Patient.managingOrganization) as a completed Communication that is `partOf` it; the
 * announcement itself is then marked completed.
 */
import type { Communication, Patient } from '@medplum/fhirtypes';
import { BOT_IDENTIFIER_SYSTEM, type Bot } from './types.ts';

export const ANNOUNCEMENT_CATEGORY = { system: 'http://clinic.example.org/fhir/CodeSystem/communication-category', code: 'announcement' };

export const announcements: Bot = {
  name: 'announcements',
  description: "Delivers an admin's announcement to every patient of the centre",
  scopes: ['system/Patient.s', 'system/Communication.cu'],
  trigger: { criteria: `Communication?category=${ANNOUNCEMENT_CATEGORY.system}|${ANNOUNCEMENT_CATEGORY.code}&status=preparation` },
  async handler(event, client) {
    const announcement = event.resource as Communication;
    const centres = (announcement.recipient ?? []).map((r) => r.reference).filter((r): r is string => !!r?.startsWith('Organization/'));
    for (const centre of centres) {
      // Pages of 1000 patients; _id ordering keeps the paging stable.
      for (let offset = 0; ; offset += 1000) {
        const patients = await client.search<Patient>('Patient', { organization: centre, _count: '1000', _offset: String(offset), _sort: '_id' });
        for (const p of patients) {
          const ref = { reference: `Patient/${p.id}` };
          await client.createIfNoneExist<Communication>(
            {
              resourceType: 'Communication',
              status: 'completed',
              category: announcement.category,
              partOf: [{ reference: `Communication/${announcement.id}` }],
              subject: ref,
              recipient: [ref],
              topic: announcement.topic,
              payload: announcement.payload,
              sent: event.now.toISOString(),
            },
            { system: BOT_IDENTIFIER_SYSTEM, value: `announcement|Communication/${announcement.id}|Patient/${p.id}` },
          );
        }
        if (patients.length < 1000) break;
      }
    }
    await client.update<Communication>({ ...announcement, status: 'completed', sent: announcement.sent ?? event.now.toISOString() });
  },
};
