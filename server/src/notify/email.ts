/**
 * Outgoing e-mail. `createEmailSender` returns an SMTP sender (nodemailer) when SMTP_URL is set,
 * or a dev outbox that keeps messages in memory and logs one line each, so that development and
 * tests without a mail server still see what would have been sent (e.g. second-factor codes).
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { log } from '../log.ts';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface EmailSender {
  send(msg: EmailMessage): Promise<void>;
}

export interface EmailConfig {
  /** `smtp://user:pass@host:port` (or `smtps://`); undefined selects the dev outbox. */
  smtpUrl?: string;
  /** The From address; defaults to no-reply at the clinic. */
  emailFrom?: string;
}

const DEFAULT_FROM = 'Clinic <no-reply@clinic.localhost>';

/** Sends through an SMTP server. Errors (refused recipient, server down) reject the promise. */
export class SmtpEmailSender implements EmailSender {
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(smtpUrl: string, from = DEFAULT_FROM) {
    this.transport = nodemailer.createTransport(smtpUrl);
    this.from = from;
  }

  async send(msg: EmailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
  }

  close(): void {
    this.transport.close();
  }
}

/** Development stand-in: remembers every message (newest last) and logs that one was sent. */
export class DevOutbox implements EmailSender {
  readonly messages: (EmailMessage & { sentAt: Date })[] = [];
  /** Oldest messages are dropped beyond this many, so a long-running dev server stays small. */
  private readonly limit: number;

  constructor(limit = 1000) {
    this.limit = limit;
  }

  async send(msg: EmailMessage): Promise<void> {
    this.messages.push({ ...msg, sentAt: new Date() });
    if (this.messages.length > this.limit) this.messages.shift();
    // The body may hold codes or clinical text: log the subject only, and only in development.
    log.info('e-mail written to the dev outbox (SMTP_URL unset)', { subject: msg.subject });
  }

  /** Messages sent to `to`, newest last. */
  to(address: string): (EmailMessage & { sentAt: Date })[] {
    return this.messages.filter((m) => m.to.toLowerCase() === address.toLowerCase());
  }
}

export function createEmailSender(config: EmailConfig): EmailSender {
  return config.smtpUrl ? new SmtpEmailSender(config.smtpUrl, config.emailFrom) : new DevOutbox();
}
