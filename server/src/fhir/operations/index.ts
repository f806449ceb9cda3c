/** The operation registry: `$name` at system, type or instance level → its handler. */
import type { FhirRepository } from '../repo/repository.ts';
import type { FhirRouter } from '../router.ts';
import type { FhirRequest, FhirResponse } from '../types.ts';
import { methodNotAllowed, notFound } from '../outcomes.ts';
import { validateOperation } from './validate.ts';
import { appointmentFindOperation } from './appointment-find.ts';
import { appointmentBookOperation, appointmentHoldOperation } from './appointment-book.ts';
import { appointmentQueueOperation } from './appointment-queue.ts';
import { bulkPublishOperation } from './bulk-publish.ts';
import { diagnosisCountsOperation } from './diagnosis-counts.ts';
import { patientEverythingOperation } from './patient-everything.ts';

export interface OperationContext {
  router: FhirRouter;
  repo: FhirRepository;
  req: FhirRequest;
  type?: string;
  id?: string;
  /** For operations with `files`: the file named below the operation (`$name/<file>`). */
  file?: string;
}

export interface OperationDefinitionSummary {
  name: string;
  /** Canonical URL of the OperationDefinition. */
  definition: string;
  /** Resource types it applies to; empty for system level. */
  types: string[] | '*';
  levels: ('system' | 'type' | 'instance')[];
  methods: ('GET' | 'POST')[];
  /** System level only: the operation also serves files at `$name/<file>` (e.g. NDJSON it publishes). */
  files?: boolean;
  handler: (ctx: OperationContext) => Promise<FhirResponse>;
}

const operations = new Map<string, OperationDefinitionSummary>();

export function registerOperation(op: OperationDefinitionSummary): void {
  operations.set(op.name, op);
}

export function listOperations(): OperationDefinitionSummary[] {
  return [...operations.values()];
}

registerOperation(validateOperation);
registerOperation(appointmentFindOperation);
registerOperation(appointmentBookOperation);
registerOperation(appointmentHoldOperation);
registerOperation(appointmentQueueOperation);
registerOperation(bulkPublishOperation);
registerOperation(patientEverythingOperation);
registerOperation(diagnosisCountsOperation);

export async function runOperation(
  router: FhirRouter,
  repo: FhirRepository,
  req: FhirRequest,
  name: string,
  type?: string,
  id?: string,
  file?: string,
): Promise<FhirResponse> {
  const op = operations.get(name);
  const level = id ? 'instance' : type ? 'type' : 'system';
  if (!op || !op.levels.includes(level) || (type && op.types !== '*' && !op.types.includes(type))) {
    throw notFound(`Unknown operation $${name}${type ? ` on ${type}` : ''}`);
  }
  if (file !== undefined && !op.files) throw notFound(`Unknown path "$${name}/${file}"`);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (!op.methods.includes(method as 'GET' | 'POST')) throw methodNotAllowed(`$${name} takes ${op.methods.join(' or ')}`);
  return op.handler({ router, repo, req, type, id, file });
}
