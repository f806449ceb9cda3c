/**
 * SMS through Twilio with the real `twilio` package. TWILIO_API_BASE (a test double) replaces
 * https://api.twilio.com through a custom httpClient that rewrites the request URL and hands it to
 * the library's own RequestClient. Without credentials there is no sender: callers record the
 * message and log it only.
 */
import twilio from 'twilio';
import type { TwilioConfig } from '../config.ts';

export interface SmsResult {
  sid: string;
  status: string;
}

export interface SmsSender {
  send(msg: { to: string; body: string; statusCallback?: string }): Promise<SmsResult>;
}

/** A refusal by Twilio (HTTP error answer): the message certainly did not go out. */
export class SmsRefusedError extends Error {
  readonly status: number;
  readonly code: number | undefined;
  constructor(message: string, status: number, code: number | undefined) {
    super(message);
    this.name = 'SmsRefusedError';
    this.status = status;
    this.code = code;
  }
}

const TWILIO_API = 'https://api.twilio.com';

/** Sends every request of the Twilio client to `base` instead of api.twilio.com. */
function rebasedHttpClient(base: string) {
  const inner = new twilio.RequestClient();
  return {
    request(opts: Parameters<typeof inner.request>[0]) {
      const uri = opts.uri.startsWith(TWILIO_API) ? base.replace(/\/+$/, '') + opts.uri.slice(TWILIO_API.length) : opts.uri;
      return inner.request({ ...opts, uri });
    },
  };
}

export class TwilioSmsSender implements SmsSender {
  private readonly client: twilio.Twilio;
  private readonly from: string;

  constructor(config: { accountSid: string; authToken: string; from: string; apiBase?: string }) {
    this.client = twilio(config.accountSid, config.authToken, config.apiBase ? { httpClient: rebasedHttpClient(config.apiBase) as never } : {});
    this.from = config.from;
  }

  async send(msg: { to: string; body: string; statusCallback?: string }): Promise<SmsResult> {
    try {
      const m = await this.client.messages.create({ to: msg.to, from: this.from, body: msg.body, statusCallback: msg.statusCallback });
      return { sid: m.sid, status: m.status };
    } catch (err) {
      const e = err as { status?: number; code?: number; message?: string };
      if (typeof e.status === 'number') throw new SmsRefusedError(e.message ?? 'Twilio refused the message', e.status, e.code);
      throw err;
    }
  }
}

export function createSmsSender(config: TwilioConfig): SmsSender | undefined {
  const { accountSid, authToken, from } = config;
  if (!accountSid || !authToken || !from) return undefined;
  return new TwilioSmsSender({ accountSid, authToken, from, apiBase: config.apiBase });
}

/** Checks Twilio's X-Twilio-Signature over the callback URL and its form parameters. */
export function validTwilioSignature(authToken: string, signature: string | undefined, url: string, params: Record<string, string>): boolean {
  return !!signature && twilio.validateRequest(authToken, signature, url, params);
}
