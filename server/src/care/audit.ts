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

/**
 * Buffers read audits and writes them in batches: at most `intervalMs` later, at once when
 * `maxBatch` have gathered, and at shutdown. Batches stay small because preparing one (indexing
 * every event) holds the event loop: under a thousand reads a second, one write per interval
 * held it for well over 100 ms and every request waiting behind it paid that in latency.
 */
export class ReadAuditBuffer {
  private pending: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** A flush is queued behind the one running: more events need not queue another. */
  private flushQueued = false;
  /** The last write failed: wait for the timer instead of retrying at every new event. */
  private failing = false;
  private readonly write: CreateMany;
  private readonly intervalMs: number;
  private readonly maxBatch: number;

  constructor(write: CreateMany, intervalMs = 500, maxBatch = 50) {
    this.write = write;
    this.intervalMs = intervalMs;
    this.maxBatch = maxBatch;
  }

  add(event: AuditEvent): void {
    this.pending.push(event);
    if (this.pending.length >= this.maxBatch && !this.flushQueued && !this.failing) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes everything buffered so far, `maxBatch` at a time; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushQueued = true;
    this.flushing = this.flushing.then(async () => {
      this.flushQueued = false;
      // Taken when this flush runs, not when it was asked for, so a queued flush carries all.
      const batch = this.pending;
      this.pending = [];
      for (let i = 0; i < batch.length; i += this.maxBatch) {
        try {
          await this.write(batch.slice(i, i + this.maxBatch));
          this.failing = false;
        } catch (err) {
          this.failing = true;
          // Keep the rest for the next flush rather than lose the trail.
          this.pending.unshift(...batch.slice(i));
          this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
          log.error('audit flush failed', { error: (err as Error).message, events: batch.length - i });
          return;
        }
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
      const repo = new FhirRepository(systemContext(), db, { referentialIntegrity: false, trustedAuditEvents: true });
      await repo.createMany(events);
    }, flushIntervalMs);
  }

  read(ctx: RequestContext, interaction: string, versions: StoredVersion[]): void {
    const event = this.eventFor(ctx, 'R', interaction, versions);
    if (event) this.buffer.add(event);
  }

  async wrote(repo: FhirRepository, action: 'C' | 'U' | 'D', versions: StoredVersion[]): Promise<void> {
    const event = this.writeEvent(repo.context, action, versions);
    if (event) await repo.asPlatform({ referentialIntegrity: false, trustedAuditEvents: true }).createMany([event]);
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
