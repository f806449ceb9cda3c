/**
 * The audit trail: an AuditEvent for every read, search and write of patient data by a caller
 * (the platform's own work is not audited). Writes are audited in the same transaction as the
 * write; reads are buffered and written in batches at least once a second, and on shutdown.
 */
import type { AuditEvent, AuditEventEntity, Resource } from '@medplum/fhirtypes';
import { systemContext, type RequestContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { FhirRepository, type StoredVersion } from '../fhir/repo/repository.ts';
import { log } from '../log.ts';

const PATIENT_REF = /"reference":"Patient\/([A-Za-z0-9\-.]{1,64})"/g;

/** Patient ids a stored resource is about: itself for a Patient, else the patients it references. */
export function patientsIn(type: string, id: string, content: string | null | undefined): string[] {
  const out = new Set<string>();
  if (type === 'Patient') out.add(id);
  if (content) for (const m of content.matchAll(PATIENT_REF)) out.add(m[1]);
  return [...out];
}

export interface AuditDetails {
  /** C create, R read/vread/search, U update/patch, D delete, E execute (operations). */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** The FHIR interaction (read, search-type, create, break-glass, …). */
  subtype: string;
  /** "Type/id" of every resource touched. */
  entities: string[];
  patients: string[];
  description?: string;
  query?: string;
}

export function auditEvent(ctx: RequestContext, d: AuditDetails): AuditEvent {
  const caller = ctx.caller;
  const who = caller?.fhirUser ? { reference: caller.fhirUser } : { identifier: { value: caller?.subject ?? 'platform' }, display: caller?.subject };
  const agents: AuditEvent['agent'] = [
    { who, requestor: true, ...(ctx.remoteAddress ? { network: { address: ctx.remoteAddress, type: '2' as const } } : {}) },
  ];
  if (caller?.clientId) {
    agents.push({ who: { identifier: { system: 'urn:oauth:client_id', value: caller.clientId }, display: caller.clientId }, requestor: false });
  }
  const entity: AuditEventEntity[] = [
    ...d.entities.map((e) => ({ what: { reference: e } })),
    ...d.patients
      .filter((p) => !d.entities.includes(`Patient/${p}`))
      .map((p) => ({ what: { reference: `Patient/${p}` }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } })),
  ];
  if (d.query) entity.push({ what: { display: 'query' }, query: Buffer.from(d.query).toString('base64') });
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: d.subtype }],
    action: d.action,
    recorded: new Date().toISOString(),
    outcome: '0',
    outcomeDesc: d.description,
    agent: agents,
    source: { observer: { display: 'fhir-clinic-platform' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    entity,
  };
}

type CreateMany = (events: Resource[]) => Promise<unknown>;

/** Buffers read audits and writes them in batches (≤ 1 s later, and at shutdown). */
export class ReadAuditBuffer {
  private pending: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly write: CreateMany;
  private readonly intervalMs: number;

  constructor(write: CreateMany, intervalMs = 500) {
    this.write = write;
    this.intervalMs = intervalMs;
  }

  add(event: AuditEvent): void {
    this.pending.push(event);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes everything buffered so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      try {
        await this.write(batch);
      } catch (err) {
        // Keep them for the next flush rather than lose the trail.
        this.pending.unshift(...batch);
        log.error('audit flush failed', { error: (err as Error).message, events: batch.length });
      }
    });
    return this.flushing;
  }
}

/**
 * The AuditSink the repository reports to for authenticated callers. Audit entries point at
 * resources that may be deleted later, so they are written without the referential check.
 */
export class AuditTrail {
  private readonly buffer: ReadAuditBuffer;

  constructor(db: Database, flushIntervalMs = 500) {
    this.buffer = new ReadAuditBuffer(async (events) => {
      const repo = new FhirRepository(systemContext(), db, { referentialIntegrity: false });
      await repo.createMany(events);
    }, flushIntervalMs);
  }

  read(ctx: RequestContext, interaction: string, versions: StoredVersion[]): void {
    const event = this.eventFor(ctx, 'R', interaction, versions);
    if (event) this.buffer.add(event);
  }

  async wrote(repo: FhirRepository, action: 'C' | 'U' | 'D', versions: StoredVersion[]): Promise<void> {
    const event = this.writeEvent(repo.context, action, versions);
    if (event) await repo.asPlatform({ referentialIntegrity: false }).createMany([event]);
  }

  writeEvent(ctx: RequestContext, action: 'C' | 'U' | 'D', versions: StoredVersion[]): AuditEvent | undefined {
    return this.eventFor(ctx, action, action === 'C' ? 'create' : action === 'U' ? 'update' : 'delete', versions);
  }

  /** Writes the buffered read audits now (at shutdown, and in tests). */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  private eventFor(ctx: RequestContext, action: AuditDetails['action'], subtype: string, versions: StoredVersion[]): AuditEvent | undefined {
    const touched = versions.filter((v) => v.type !== 'AuditEvent');
    const patients = new Set<string>();
    for (const v of touched) for (const p of patientsIn(v.type, v.id, v.content)) patients.add(p);
    if (patients.size === 0) return undefined; // not patient data
    return auditEvent(ctx, { action, subtype, entities: touched.map((v) => `${v.type}/${v.id}`), patients: [...patients] });
  }
}
