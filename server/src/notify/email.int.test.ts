import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../../test/support/smtp.ts';
import { createEmailSender, DevOutbox, SmtpEmailSender } from './email.ts';
import { setLogLevel } from '../log.ts';

let smtp: TestSmtpServer;
beforeAll(async () => {
  setLogLevel('silent');
  smtp = await startSmtpServer({ rejectRecipients: /^nobody@/ });
});
afterAll(async () => {
  await smtp?.close();
});

describe('e-mail', () => {
  it('sends through a real SMTP server when SMTP_URL is set', async () => {
    const sender = createEmailSender({ smtpUrl: smtp.url, emailFrom: 'Clinic <clinic@example.org>' });
    expect(sender).toBeInstanceOf(SmtpEmailSender);
    await sender.send({ to: 'jack@example.org', subject: 'Your code', text: 'Code: 123456', html: '<p>Code: <b>123456</b></p>' });
    const [mail] = await smtp.waitFor(1);
    expect(mail.from).toBe('clinic@example.org');
    expect(mail.to).toEqual(['jack@example.org']);
    expect(mail.raw).toMatch(/^Subject: Your code/m);
    expect(mail.raw).toContain('Code: 123456');
    expect(mail.raw).toMatch(/text\/html/);
    (sender as SmtpEmailSender).close();
  });

  it('rejects when the server refuses the recipient', async () => {
    const sender = new SmtpEmailSender(smtp.url);
    await expect(sender.send({ to: 'nobody@example.org', subject: 's', text: 't' })).rejects.toThrow();
    sender.close();
  });

  it('writes to the dev outbox when SMTP_URL is unset', async () => {
    const sender = createEmailSender({});
    expect(sender).toBeInstanceOf(DevOutbox);
    await sender.send({ to: 'Ann@example.org', subject: 'Hello', text: 'body' });
    expect((sender as DevOutbox).to('ann@example.org').map((m) => m.subject)).toEqual(['Hello']);
  });
});
