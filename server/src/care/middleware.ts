/**
 * Applies CARE to every authenticated FHIR request: narrows the token's AccessPolicy with the
 * care rules and attaches the audit trail. Runs after the bearer-token middleware.
 */
import type { NextFunction, Request, Response } from 'express';
import type { RequestContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { allowAll } from '../access/policy.ts';
import { CarePolicy } from './policy.ts';
import { AuditTrail } from './audit.ts';

export interface Care {
  middleware: (req: Request, res: Response, next: NextFunction) => void;
  audit: AuditTrail;
}

export function createCare(db: Database): Care {
  const audit = new AuditTrail(db);
  return {
    audit,
    middleware(_req, res, next) {
      const ctx = res.locals.context as RequestContext;
      if (ctx.caller) {
        ctx.access = new CarePolicy(ctx.access ?? allowAll, ctx.caller);
        ctx.audit = audit;
      }
      next();
    },
  };
}
