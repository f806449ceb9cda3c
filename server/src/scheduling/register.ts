/**
 * Installs the scheduling write hooks (booking rules, slot bookkeeping, slot generation from
 * hours, ratings). Imported once by the repository, so the rules hold whoever writes.
 */
import type { PractitionerRole } from '@medplum/fhirtypes';
import { registerWriteHook } from '../fhir/repo/hooks.ts';
import { appointmentHook } from './booking.ts';
import { ratingHook, ratingSummaryHook } from './ratings.ts';
import { slotHook } from './slot-hook.ts';
import { hoursChanged, regenerateSlots } from './slots.ts';

registerWriteHook(slotHook);
registerWriteHook(appointmentHook);
registerWriteHook(ratingHook);
registerWriteHook(ratingSummaryHook);

// A role's Schedule and free Slots follow its hours (created with it, regenerated on change).
registerWriteHook({
  name: 'scheduling.practitioner-role',
  types: ['PractitionerRole'],
  async afterWrite(repo, stored, previous) {
    const role = stored as PractitionerRole | undefined;
    if (!role?.availableTime?.length && !(previous as PractitionerRole | undefined)?.availableTime?.length) return;
    if (role && !hoursChanged(role, previous as PractitionerRole | undefined)) return;
    if (role) await regenerateSlots(repo.asPlatform(), role);
  },
});
