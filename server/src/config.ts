/** Environment → typed configuration, validated once at start (see ../shared/CONTRACT.md). */
import { availableParallelism } from 'node:os';
import path from 'node:path';

export interface Config {
  port: number;
  baseUrl: string;
  /** `$BASE_URL/fhir` — the FHIR base every absolute URL we emit starts with. */
  fhirBaseUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  referentialIntegrity: boolean;
  /** AUTH_REQUIRED (default on): FHIR requests need a bearer token; off lets token-less calls run as the platform. */
  authRequired: boolean;
  /** AUTH_RATE_LIMIT (default 30): login, second-factor and token requests per minute per IP. */
  authRateLimit: number;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  clinicTimeZone: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Connections in the PostgreSQL pool. */
  poolSize: number;
  /** `VALIDATION_THREADS`: worker threads validating big batches (default: one per core; 0 validates in place). */
  validationThreads: number;
  /** Background jobs (server/src/jobs). */
  jobs: JobsConfig;
  /** SMTP server for outgoing e-mail (`SMTP_URL`); unset writes to the dev outbox. */
  smtpUrl: string | undefined;
  emailFrom: string | undefined;
  twilio: TwilioConfig;
  /** `REMINDER_LEAD_TIMES` in milliseconds, largest first (default 24h, 2h). */
  reminderLeadTimesMs: number[];
}

export interface JobsConfig {
  /** `WORKERS=inline`: with REDIS_URL set, also run the BullMQ workers inside the server. */
  inlineWorkers: boolean;
  /** `JOB_ATTEMPTS`: tries per job before it is dead-lettered (default 10). */
  attempts: number;
  /** `JOB_BACKOFF_MS`: first retry delay; doubles each attempt (default 1000). */
  backoffMs: number;
  /** `QUEUE_PREFIX`: BullMQ key prefix on Redis (default `clinic`). */
  queuePrefix: string;
  /** `JOB_LOCK_MS`: how long a worker's job lock lasts before a dead worker's job is retried (default 30 s). */
  lockMs: number;
  /** `REMINDER_SCAN_MS`: how often due reminders are looked for (default 60 s). */
  reminderScanMs: number;
}

export interface TwilioConfig {
  accountSid: string | undefined;
  authToken: string | undefined;
  from: string | undefined;
  /** Replaces https://api.twilio.com (a test double). */
  apiBase: string | undefined;
}

function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new Error(`${name} must be on or off, not "${raw}"`);
}

function parseSize(name: string, raw: string | undefined, fallback: number): number {
  if (!raw) return fallback;
  const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(raw.trim());
  if (!m) throw new Error(`${name} must be a size such as 16mb, not "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1;
  return Number(m[1]) * factor;
}

function parseInteger(name: string, raw: string | undefined, fallback: number): number {
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not "${raw}"`);
  return n;
}

/** `24h,2h,30m,1d` → milliseconds, largest first. */
export function parseLeadTimes(name: string, raw: string | undefined, fallback: string): number[] {
  const unitMs: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
  const out = (raw || fallback).split(',').map((part) => {
    const m = /^\s*(\d+)\s*([mhd])\s*$/i.exec(part);
    if (!m || Number(m[1]) === 0) throw new Error(`${name} must list durations such as 24h,2h (units m, h, d), not "${raw}"`);
    return Number(m[1]) * unitMs[m[2].toLowerCase()];
  });
  return [...new Set(out)].sort((a, b) => b - a);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parseInteger('PORT', env.PORT, 8080);
  const baseUrl = (env.BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be debug, info, warn, error or silent, not "${env.LOG_LEVEL}"`);
  }
  return {
    port,
    baseUrl,
    fhirBaseUrl: `${baseUrl}/fhir`,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR || './data'),
    redisUrl: env.REDIS_URL || undefined,
    referentialIntegrity: parseBoolean('REFERENTIAL_INTEGRITY', env.REFERENTIAL_INTEGRITY, true),
    authRequired: parseBoolean('AUTH_REQUIRED', env.AUTH_REQUIRED, true),
    authRateLimit: parseInteger('AUTH_RATE_LIMIT', env.AUTH_RATE_LIMIT, 30),
    bodyLimitBytes: parseSize('BODY_LIMIT', env.BODY_LIMIT, 64 * 1024 * 1024),
    clinicTimeZone: env.CLINIC_TIMEZONE || 'Australia/Sydney',
    logLevel,
    poolSize: parseInteger('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 20),
    validationThreads: Math.min(64, parseInteger('VALIDATION_THREADS', env.VALIDATION_THREADS, availableParallelism())),
    jobs: {
      inlineWorkers: (env.WORKERS || '').trim().toLowerCase() === 'inline',
      attempts: Math.max(1, parseInteger('JOB_ATTEMPTS', env.JOB_ATTEMPTS, 10)),
      backoffMs: parseInteger('JOB_BACKOFF_MS', env.JOB_BACKOFF_MS, 1000),
      queuePrefix: env.QUEUE_PREFIX || 'clinic',
      lockMs: Math.max(1000, parseInteger('JOB_LOCK_MS', env.JOB_LOCK_MS, 30_000)),
      reminderScanMs: Math.max(1000, parseInteger('REMINDER_SCAN_MS', env.REMINDER_SCAN_MS, 60_000)),
    },
    smtpUrl: env.SMTP_URL || undefined,
    emailFrom: env.EMAIL_FROM || undefined,
    twilio: {
      accountSid: env.TWILIO_ACCOUNT_SID || undefined,
      authToken: env.TWILIO_AUTH_TOKEN || undefined,
      from: env.TWILIO_FROM || undefined,
      apiBase: env.TWILIO_API_BASE || undefined,
    },
    reminderLeadTimesMs: parseLeadTimes('REMINDER_LEAD_TIMES', env.REMINDER_LEAD_TIMES, '24h,2h'),
  };
}
