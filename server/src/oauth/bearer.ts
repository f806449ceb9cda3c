/**
 * The FHIR API's authentication middleware: verifies the bearer JWT once per request and puts
 * the caller and its AccessPolicy on the request context. Missing, invalid, expired or revoked
 * tokens get 401 with WWW-Authenticate (RFC 6750). With AUTH_REQUIRED=off, requests without a
 * token run as the platform (for the store's own tests); a token, when sent, is still checked.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Caller, RequestContext } from '../context.ts';
import { OperationOutcomeError, outcome } from '../fhir/outcomes.ts';
import { SmartPolicy } from '../access/smart-policy.ts';
import { isRole } from '../accounts/roles.ts';
import { verifyAccessToken, type AccessClaims, type Issuer } from './tokens.ts';

/** Paths under /fhir anyone may read. */
const PUBLIC_PATHS = new Set(['/metadata', '/.well-known/smart-configuration', '/openapi.json']);
/** SMART Scheduling Links: the $bulk-publish manifest and its files are public (outside directories have no tokens). */
const isPublic = (path: string) => PUBLIC_PATHS.has(path) || /^\/(?:\$|%24)bulk-publish(?:\/[^/]+)?$/i.test(path);

export function unauthorized(realm: string, description: string, invalid: boolean): OperationOutcomeError {
  const challenge = invalid
    ? `Bearer realm="${realm}", error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"`
    : `Bearer realm="${realm}"`;
  return new OperationOutcomeError(outcome('error', 'login', description), 401, { 'www-authenticate': challenge });
}

/** The bearer token of a request, if it sent one (`Authorization: Bearer …`). */
export function bearerToken(req: Request): string | undefined | null {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(h);
  return m ? m[1] : null;
}

export function callerOf(claims: AccessClaims): Caller {
  return {
    subject: claims.sub,
    fhirUser: claims.fhirUser,
    role: claims.role,
    clientId: claims.client_id,
    scopes: claims.scope.split(' ').filter(Boolean),
    patient: claims.patient,
    encounter: claims.encounter,
  };
}

export function fhirAuth(issuer: Issuer, authRequired: boolean) {
  const realm = issuer.audience;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      if (req.method === 'OPTIONS' || isPublic(req.path)) return next();
      const token = bearerToken(req);
      if (token === undefined) {
        if (authRequired) throw unauthorized(realm, 'This FHIR server needs a bearer access token', false);
        return next();
      }
      if (token === null) throw unauthorized(realm, 'Malformed Authorization header: expected "Bearer <token>"', true);
      let claims: AccessClaims;
      try {
        claims = await verifyAccessToken(issuer, token);
      } catch (err) {
        const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
        throw unauthorized(realm, expired ? 'The access token has expired' : 'The access token is invalid or revoked', true);
      }
      const ctx = res.locals.context as RequestContext;
      ctx.caller = callerOf(claims);
      ctx.access = new SmartPolicy({
        scopes: ctx.caller.scopes,
        role: claims.role && isRole(claims.role) ? claims.role : undefined,
        fhirUser: claims.fhirUser,
        patient: claims.patient,
      });
      next();
    } catch (err) {
      next(err);
    }
  };
}
