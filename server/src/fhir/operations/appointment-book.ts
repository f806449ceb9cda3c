/**
 * `Appointment/$book` and `Appointment/$hold`. Both take an Appointment (the body, or the
 * `appt-resource`/`appointment` parameter of a Parameters body), typically one that $find
 * proposed. $hold stores it `pending` with an expiry (`hold-minutes`, default 10, at most 30);
 * $book stores it `booked` (or `proposed` for providers who confirm by hand), or confirms an
 * earlier hold when it names that appointment's id. The booking rules are the write hooks'.
 */
import type { Appointment, Parameters } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes.ts';
import type { FhirRequest } from '../types.ts';
import type { OperationContext, OperationDefinitionSummary } from './index.ts';
import { HOLD_EXPIRES_URL } from '../../scheduling/codes.ts';
import { schedulingSettings } from '../../scheduling/settings.ts';
import { operationParams } from './appointment-find.ts';

function appointmentFrom(req: FhirRequest): Appointment {
  const body = req.body as Appointment | Parameters | undefined;
  const appt = body?.resourceType === 'Parameters'
    ? body.parameter?.find((p) => p.name === 'appt-resource' || p.name === 'appointment')?.resource
    : body;
  if (!appt || appt.resourceType !== 'Appointment') throw badRequest('Give the Appointment to book as the body or as the "appt-resource" parameter');
  return structuredClone(appt) as Appointment;
}

async function store({ repo, req, router }: OperationContext, appt: Appointment) {
  if (appt.id) {
    const existing = await repo.readResource<Appointment>('Appointment', appt.id);
    const result = await repo.update({ ...existing, ...appt, id: existing.id, meta: existing.meta });
    return router.writeResponse(req, result, 200);
  }
  return router.writeResponse(req, await repo.create(appt), 201);
}

export const appointmentBookOperation: OperationDefinitionSummary = {
  name: 'book',
  definition: 'http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-book',
  types: ['Appointment'],
  levels: ['type'],
  methods: ['POST'],
  async handler(ctx) {
    const appt = appointmentFrom(ctx.req);
    appt.status = appt.status === 'proposed' && !appt.id ? 'booked' : appt.status === 'pending' || !appt.status ? 'booked' : appt.status;
    if (appt.id) appt.status = 'booked';
    appt.extension = appt.extension?.filter((e) => e.url !== HOLD_EXPIRES_URL);
    if (!appt.extension?.length) delete appt.extension;
    return store(ctx, appt);
  },
};

export const appointmentHoldOperation: OperationDefinitionSummary = {
  name: 'hold',
  definition: 'http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-hold',
  types: ['Appointment'],
  levels: ['type'],
  methods: ['POST'],
  async handler(ctx) {
    const appt = appointmentFrom(ctx.req);
    if (appt.id) throw badRequest('$hold makes a new hold; it takes an Appointment without an id');
    const raw = operationParams(ctx.req.query, ctx.req.body)['hold-minutes'];
    const minutes = raw === undefined ? schedulingSettings().holdMinutes : Number(raw);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 30) throw badRequest('hold-minutes must be a whole number from 1 to 30');
    appt.status = 'pending';
    appt.extension = [...(appt.extension ?? []).filter((e) => e.url !== HOLD_EXPIRES_URL), { url: HOLD_EXPIRES_URL, valueDateTime: new Date(Date.now() + minutes * 60_000).toISOString() }];
    return store(ctx, appt);
  },
};
