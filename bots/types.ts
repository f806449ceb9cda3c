/**
 * The contract between bots and the platform. A bot is one file exporting a `Bot`: what triggers
 * it (a search criteria evaluated on every change, or a named schedule), the scopes it needs,
 * and a handler that gets the triggering resource and a FHIR client acting as the bot's own
 * identity. Bots never send SMS or e-mail themselves: they write `Communication`s with status
 * `preparation` and a `medium`, and the platform's sender delivers and records each once.
 */
import type { Resource } from '@medplum/fhirtypes';

export type SearchQuery = Record<string, string | string[]>;

/** The FHIR operations a bot may use; each is checked against the bot's scopes. */
export interface FhirClient {
  read<T extends Resource>(type: T['resourceType'], id: string): Promise<T>;
  /** One page of matches (up to `_count`, default 100). */
  search<T extends Resource>(type: T['resourceType'], query?: SearchQuery): Promise<T[]>;
  create<T extends Resource>(resource: T): Promise<T>;
  update<T extends Resource>(resource: T): Promise<T>;
  /**
   * Creates `resource` (given `identifier` so it can be found again) unless one with that
   * identifier was already created: FHIR's conditional create (`If-None-Exist`), safe against
   * concurrent runs. Returns undefined when it already existed.
   */
  createIfNoneExist<T extends Resource>(resource: T, identifier: { system: string; value: string }): Promise<T | undefined>;
}

export interface BotSettings {
  /** Reminder lead times in milliseconds, largest first (REMINDER_LEAD_TIMES). */
  reminderLeadTimesMs: number[];
  /** CLINIC_TIMEZONE. */
  clinicTimeZone: string;
}

export interface BotEvent<T extends Resource = Resource> {
  /** The version that triggered the bot (undefined for scheduled runs). */
  resource?: T;
  /** Current time (injectable, so schedules can be tested with a moved clock). */
  now: Date;
  settings: BotSettings;
}

export interface Bot {
  name: string;
  description: string;
  /** SMART v2 system scopes, e.g. `system/Communication.c`. */
  scopes: string[];
  trigger: { criteria: string } | { schedule: 'reminders' };
  handler(event: BotEvent, client: FhirClient): Promise<void>;
}

/** Identifier system under which bots mark what they created, so it is never created twice. */
export const BOT_IDENTIFIER_SYSTEM = 'urn:clinic:bot';

/** v3 ParticipationMode codes for Communication.medium. */
export const MEDIUM_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode';
export const SMS = { system: MEDIUM_SYSTEM, code: 'SMSWRIT', display: 'SMS' };
export const EMAIL = { system: MEDIUM_SYSTEM, code: 'EMAILWRIT', display: 'email' };

/** Patient opts out of SMS with this extension set to true (see bots/sms.ts). */
export const SMS_OPT_OUT_URL = 'http://clinic.example.org/fhir/StructureDefinition/sms-opt-out';
