/** Environment → typed configuration, validated once at start (see ../shared/CONTRACT.md). */
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
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  clinicTimeZone: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Connections in the PostgreSQL pool. */
  poolSize: number;
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
    bodyLimitBytes: parseSize('BODY_LIMIT', env.BODY_LIMIT, 64 * 1024 * 1024),
    clinicTimeZone: env.CLINIC_TIMEZONE || 'Australia/Sydney',
    logLevel,
    poolSize: parseInteger('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 20),
  };
}
