/**
 * `Appointment/{id}/$queue-position`: where a checked-in appointment stands in its provider's
 * queue today (1 = next). Visible to whoever may read the appointment.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { OperationDefinitionSummary } from './index.ts';
import { queuePosition } from '../../scheduling/queue.ts';
import { CANONICAL_BASE } from '../../scheduling/codes.ts';

export const appointmentQueueOperation: OperationDefinitionSummary = {
  name: 'queue-position',
  definition: `${CANONICAL_BASE}/OperationDefinition/appointment-queue-position`,
  types: ['Appointment'],
  levels: ['instance'],
  methods: ['GET', 'POST'],
  async handler({ repo, id }) {
    await repo.read('Appointment', id as string); // the caller must be able to see it
    const q = await queuePosition(repo.queryable, id as string);
    const parameter: ParametersParameter[] = [{ name: 'waiting', valueBoolean: q.waiting }];
    if (q.waiting) {
      parameter.push({ name: 'position', valueInteger: q.position }, { name: 'queue-length', valueInteger: q.queueLength });
      if (q.practitionerId) parameter.push({ name: 'practitioner', valueReference: { reference: `Practitioner/${q.practitionerId}` } });
      if (q.arrivedAt) parameter.push({ name: 'arrived', valueInstant: q.arrivedAt.toISOString() });
    }
    const body: Parameters = { resourceType: 'Parameters', parameter };
    return { status: 200, body, headers: {} };
  },
};
