/**
 * Scheduling settings. The write hooks run wherever a repository writes (server, import CLI,
 * seed), so they read the environment themselves; the server overrides them from its Config
 * with `configureScheduling` (tests start servers with their own env).
 */
export interface SchedulingSettings {
  /** CLINIC_TIMEZONE: opening hours are wall-clock times here. */
  timeZone: string;
  /** VIDEO_BASE_URL: video rooms are created under it. */
  videoBaseUrl: string;
  /** How far ahead slots are generated (8 weeks). */
  horizonDays: number;
  /** How long a $hold keeps a slot unless the request says otherwise. */
  holdMinutes: number;
  /** Base URL of the booking app, for $bulk-publish deep links. */
  bookingAppUrl: string;
}

function fromEnv(env: NodeJS.ProcessEnv): SchedulingSettings {
  const port = env.PORT || '8080';
  const base = (env.BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  return {
    timeZone: env.CLINIC_TIMEZONE || 'Australia/Sydney',
    videoBaseUrl: (env.VIDEO_BASE_URL || 'https://meet.jit.si').replace(/\/+$/, ''),
    horizonDays: 56,
    holdMinutes: 10,
    bookingAppUrl: `${base}/apps/booking/`,
  };
}

let current: SchedulingSettings | undefined;

export function schedulingSettings(): SchedulingSettings {
  return (current ??= fromEnv(process.env));
}

export function configureScheduling(overrides: Partial<SchedulingSettings>): void {
  current = { ...schedulingSettings(), ...overrides };
}
