/**
 * Twilio's message status callbacks (POST, form-encoded, signed with X-Twilio-Signature over our
 * public URL and the parameters). A verified callback updates the Communication holding that
 * message SID: `delivered` → completed, `failed`/`undelivered` → not-done with the reason; the
 * raw Twilio status is kept in an extension. Unsigned or wrongly signed calls get 403.
 */
import express, { type Router } from 'express';
import type { Communication, Resource } from '@medplum/fhirtypes';
import type { Config } from '../config.ts';
import { systemContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { STATUS_CALLBACK_PATH, TWILIO_SID_SYSTEM, TWILIO_STATUS_URL } from './sender.ts';
import { validTwilioSignature } from './twilio.ts';

export function twilioStatusRoutes(config: Config, db: Database): Router {
  const router = express.Router();
  router.post(STATUS_CALLBACK_PATH, express.urlencoded({ extended: false, limit: '64kb' }), async (req, res, next) => {
    try {
      const token = config.twilio.authToken;
      const params = (req.body ?? {}) as Record<string, string>;
      if (!token || !validTwilioSignature(token, req.header('x-twilio-signature'), `${config.baseUrl}${STATUS_CALLBACK_PATH}`, params)) {
        res.status(403).type('text/plain').send('invalid signature');
        return;
      }
      const sid = params.MessageSid ?? params.SmsSid;
      const status = params.MessageStatus ?? params.SmsStatus;
      if (!sid || !status) {
        res.status(400).type('text/plain').send('MessageSid and MessageStatus are required');
        return;
      }
      const repo = new FhirRepository(systemContext(), db, { referentialIntegrity: false });
      await repo.withTransaction(async (tx) => {
        const found = await tx.search(parseSearch('Communication', { identifier: `${TWILIO_SID_SYSTEM}|${sid}` }));
        const row = found.matches[0];
        if (!row) return;
        const c = JSON.parse(row.content as string) as Communication;
        const extension = [...(c.extension ?? []).filter((e) => e.url !== TWILIO_STATUS_URL), { url: TWILIO_STATUS_URL, valueCode: status }];
        const next: Communication = { ...c, extension };
        if (status === 'delivered') next.status = 'completed';
        if (status === 'failed' || status === 'undelivered') {
          next.status = 'not-done';
          next.statusReason = { text: `Twilio: ${status}${params.ErrorCode ? ` (error ${params.ErrorCode})` : ''}` };
        }
        await tx.update(next as Resource);
      });
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });
  return router;
}
