/**
 * The request context: who is calling and on whose behalf. Every repository call goes through
 * one, so that AUTH and CARE can narrow what a request may read and write in one place.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { AccessPolicy } from './access/policy.ts';
import type { FhirRepository, StoredVersion } from './fhir/repo/repository.ts';

/** Where the repository reports accesses to patient data (CARE's audit trail). */
export interface AuditSink {
  /** Reads, vreads, searches and history: recorded soon after (batched). */
  read(ctx: RequestContext, interaction: string, versions: StoredVersion[]): void;
  /** Writes: recorded through `repo`, inside the write's own transaction. */
  wrote(repo: FhirRepository, action: 'C' | 'U' | 'D', versions: StoredVersion[]): Promise<void>;
  /**
   * The record of a write, for the repository to store in the same statement as the write
   * (undefined when there is nothing to record).
   */
  writeEvent(ctx: RequestContext, action: 'C' | 'U' | 'D', versions: StoredVersion[]): Resource | undefined;
}

export interface Caller {
  /** Account id, or the client id for backend services. */
  subject: string;
  /** The caller's FHIR resource, e.g. "Practitioner/123". */
  fhirUser?: string;
  role?: string;
  clientId?: string;
  scopes: string[];
  /** The patient in context (patient-facing launches). */
  patient?: string;
  /** The encounter in context (EHR launches). */
  encounter?: string;
}

export interface RequestContext {
  requestId: string;
  /** Undefined for the platform itself (migrations, seeding, tests of the store). */
  caller?: Caller;
  remoteAddress?: string;
  /** What the caller may do and see; undefined means the platform itself (everything). */
  access?: AccessPolicy;
  /** The audit trail for this caller; undefined for the platform's own work. */
  audit?: AuditSink;
}

export function systemContext(): RequestContext {
  return { requestId: randomUUID() };
}
