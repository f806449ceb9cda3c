/**
 * `POST Patient/{id}/$break-glass` (Parameters: `reason`): a provider without a grant opens the
 * patient's history in an emergency. It lasts 24 hours, is recorded as a Consent (purpose
 * emergency treatment, the reason in an extension) that the patient and admins can see, and as
 * an AuditEvent.
 */
import type { Parameters } from '@medplum/fhirtypes';
import type { OperationDefinitionSummary } from '../fhir/operations/index.ts';
import { badRequest, forbidden, notFound } from '../fhir/outcomes.ts';
import { grantConsent } from './consents.ts';
import { TREATING_ROLES } from './policy.ts';
import { auditEvent } from './audit.ts';

export const BREAK_GLASS_HOURS = 24;

function reasonOf(body: unknown): string | undefined {
  const params = body as Parameters | undefined;
  if (params?.resourceType !== 'Parameters') return undefined;
  const value = params.parameter?.find((p) => p.name === 'reason')?.valueString;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

export const breakGlassOperation: OperationDefinitionSummary = {
  name: 'break-glass',
  definition: 'https://fhir-clinic.example/OperationDefinition/Patient-break-glass',
  types: ['Patient'],
  levels: ['instance'],
  methods: ['POST'],
  async handler({ router, repo, req, id }) {
    const caller = repo.context.caller;
    const practitionerId = /^Practitioner\/([^/]+)$/.exec(caller?.fhirUser ?? '')?.[1];
    if (!caller?.role || !TREATING_ROLES.has(caller.role) || !practitionerId) {
      throw forbidden('Only treating providers can use break-glass access');
    }
    const reason = reasonOf(req.body);
    if (!reason) throw badRequest('Break-glass needs a reason: a Parameters body with a "reason" valueString');
    return repo.withTransaction(async (tx) => {
      const platform = tx.asPlatform();
      const patient = await platform.readVersion('Patient', id as string);
      if (!patient || patient.deleted) throw notFound(`Patient/${id} not found`);
      const start = new Date();
      const end = new Date(start.getTime() + BREAK_GLASS_HOURS * 3600_000);
      const result = await platform.create(grantConsent({ patientId: id as string, practitionerId, kind: 'break-glass', start, end, reason }));
      await platform.create(
        auditEvent(repo.context, {
          action: 'E',
          subtype: 'break-glass',
          entities: [`Patient/${id}`, `Consent/${result.stored.id}`],
          patients: [id as string],
          description: `Break-glass access for 24 hours: ${reason}`,
        }),
      );
      return router.writeResponse(req, result, 201);
    });
  },
};
