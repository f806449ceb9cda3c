/**
 * `Condition/$diagnosis-counts?from=YYYY-MM-DD&to=YYYY-MM-DD[&location=Location/id]`: how often
 * each diagnosis was recorded per month, de-identified (see analytics/diagnoses.ts), for clinic
 * managers (admin, receptionist), backend services and the platform. Clinicians and patients see
 * Conditions themselves, as the care rules allow, and have no use for it.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { diagnosisCounts, MIN_PATIENTS } from '../../analytics/diagnoses.ts';
import { CANONICAL_BASE } from '../../scheduling/codes.ts';
import { isBackendService } from '../../scheduling/refs.ts';
import { badRequest, forbidden } from '../outcomes.ts';
import { ID_RE } from '../references.ts';
import type { OperationDefinitionSummary } from './index.ts';

const MANAGERS = new Set(['admin', 'receptionist']);
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`Give "${name}" once`);
  return value;
}

export const diagnosisCountsOperation: OperationDefinitionSummary = {
  name: 'diagnosis-counts',
  definition: `${CANONICAL_BASE}/OperationDefinition/condition-diagnosis-counts`,
  types: ['Condition'],
  levels: ['type'],
  methods: ['GET'],
  async handler({ repo, req }) {
    const caller = repo.context.caller;
    if (caller && !(caller.role && MANAGERS.has(caller.role)) && !isBackendService(caller)) {
      throw forbidden('Diagnosis counts are for clinic managers (admin, receptionist)');
    }
    const from = single(req.query.from, 'from');
    const to = single(req.query.to, 'to');
    const location = single(req.query.location, 'location');
    if (!from || !DAY.test(from) || Number.isNaN(Date.parse(from))) throw badRequest('"from" must be a date (YYYY-MM-DD): the first day counted');
    if (!to || !DAY.test(to) || Number.isNaN(Date.parse(to))) throw badRequest('"to" must be a date (YYYY-MM-DD): the first day no longer counted');
    if (to <= from) throw badRequest('"to" must come after "from"');
    const locationId = location?.replace(/^Location\//, '');
    if (location !== undefined && !ID_RE.test(locationId as string)) throw badRequest('"location" must be Location/<id>');

    const counts = await diagnosisCounts(repo.queryable, { from, to, location: locationId });
    const parameter: ParametersParameter[] = [
      { name: 'from', valueDate: from },
      { name: 'to', valueDate: to },
      { name: 'minimum-patients', valueInteger: MIN_PATIENTS },
    ];
    for (const d of counts.diagnoses) {
      parameter.push({
        name: 'diagnosis',
        part: [
          d.code ? { name: 'code', valueCoding: { system: d.system, code: d.code, display: d.display } } : { name: 'text', valueString: d.display },
          { name: 'count', valueInteger: d.count },
          { name: 'patients', valueInteger: d.patients },
          ...[...d.months].sort(([a], [b]) => a.localeCompare(b)).map(([month, count]) => ({
            name: 'month', part: [{ name: 'period', valueString: month }, { name: 'count', valueInteger: count }],
          })),
        ],
      });
    }
    parameter.push({ name: 'suppressed', part: [{ name: 'count', valueInteger: counts.suppressed.count }, { name: 'diagnoses', valueInteger: counts.suppressed.diagnoses }] });
    const body: Parameters = { resourceType: 'Parameters', parameter };
    return { status: 200, body, headers: {} };
  },
};
