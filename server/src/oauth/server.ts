/**
 * Assembles the SMART authorization server: discovery, JWKS, authorize + login pages, token,
 * introspection, revocation, registration and EHR launch, plus the FHIR bearer middleware.
 * Security middleware lives here: helmet headers, per-IP and per-account rate limits, CORS on
 * the endpoints apps call from browsers, and one error handler answering OAuth error JSON.
 */
import cors from 'cors';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { log } from '../log.ts';
import { createEmailSender, type EmailSender } from '../notify/email.ts';
import { accountRoutes } from '../accounts/routes.ts';
import { handleAuthorize } from './authorize.ts';
import { fhirAuth } from './bearer.ts';
import { endpointsFor, smartConfiguration, type Endpoints } from './discovery.ts';
import { OAuthError, sendOAuthError } from './errors.ts';
import { handleIntrospect } from './introspect.ts';
import { KeyStore } from './keys.ts';
import { handleLaunch } from './launch.ts';
import { postCode, postConsent, postPassword, postPatient } from './login.ts';
import { errorPage } from './pages.ts';
import { handleRegister } from './register.ts';
import { handleRevoke } from './revoke.ts';
import { KEY_GRACE_MS, KEY_ROTATE_MS } from './settings.ts';
import { handleToken } from './token-endpoint.ts';
import type { Issuer } from './tokens.ts';

export interface AuthServer {
  /** Mount at the application root (handles /oauth/*, /accounts/* and the discovery documents). */
  router: express.Router;
  /** Mount on /fhir before the FHIR routes. */
  fhirAuth: RequestHandler;
  endpoints: Endpoints;
  keys: KeyStore;
  email: EmailSender;
  issuer: Issuer;
}

type Handler = (req: Request, res: Response) => Promise<void>;
/** Async handler → Express handler passing rejections to the error handler. */
const wrap = (h: Handler): RequestHandler => (req, res, next) => {
  h(req, res).catch(next);
};

export function createAuthServer(config: Config, db: Database, email?: EmailSender): AuthServer {
  const endpoints = endpointsFor(config.baseUrl);
  const keys = new KeyStore(db, { rotateAfterMs: KEY_ROTATE_MS, graceMs: KEY_GRACE_MS });
  const issuer: Issuer = { issuer: config.baseUrl, audience: config.fhirBaseUrl, keys, db };
  const sender = email ?? createEmailSender(config);
  const secureCookies = config.baseUrl.startsWith('https:');
  const common = { issuer, tokenUrl: endpoints.token, baseUrl: config.baseUrl };
  const loginOpts = { db, email: sender, secureCookies };

  const r = express.Router();
  const openCors = cors({ origin: '*', methods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['Authorization', 'Content-Type', 'Accept'], maxAge: 600 });
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const json = express.json({ limit: '256kb' });
  const perIp = (limit: number, html: boolean) => rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, res) => {
      if (html) res.status(429).type('html').send(errorPage('Too many attempts from your network. Wait a minute and try again.'));
      else sendOAuthError(res, new OAuthError('slow_down', 'Too many requests; wait a minute and retry', 429));
    },
  });
  // Per account: at most this many password tries a minute for one e-mail, whatever the IP.
  const perAccount = rateLimit({
    windowMs: 60_000,
    limit: 10,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => `account:${String((req.body as Record<string, unknown>)?.email ?? '').trim().toLowerCase()}`,
    validate: { keyGeneratorIpFallback: false },
    handler: (_req, res) => {
      res.status(429).type('html').send(errorPage('Too many sign-in attempts for this account. Wait a minute and try again.'));
    },
  });

  // Login pages: strict headers. No form-action limit: the final redirect goes to the app's origin.
  r.use(['/oauth', '/accounts'], helmet({
    contentSecurityPolicy: { directives: { 'default-src': ["'none'"], 'style-src': ["'unsafe-inline'"], 'img-src': ["'self'"], 'form-action': null, 'frame-ancestors': ["'none'"], 'base-uri': ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  }));

  const discovery = (_req: Request, res: Response) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(smartConfiguration(endpoints));
  };
  r.get(['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration'], openCors, discovery);
  r.options(['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration'], openCors);

  r.get('/oauth/jwks', openCors, wrap(async (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(await keys.jwks());
  }));
  const authorizeOpts = { db, baseUrl: config.baseUrl, fhirBaseUrl: config.fhirBaseUrl, secureCookies };
  r.get('/oauth/authorize', wrap((req, res) => handleAuthorize(authorizeOpts, req, res)));
  r.post('/oauth/authorize', form, wrap((req, res) => handleAuthorize(authorizeOpts, req, res)));
  r.post('/oauth/login', perIp(config.authRateLimit, true), form, perAccount, wrap((req, res) => postPassword(loginOpts, req, res)));
  r.post('/oauth/login/code', perIp(config.authRateLimit, true), form, wrap((req, res) => postCode(loginOpts, req, res)));
  r.post('/oauth/consent', form, wrap((req, res) => postConsent(loginOpts, req, res)));
  r.post('/oauth/patient', form, wrap((req, res) => postPatient(loginOpts, req, res)));

  for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke', '/oauth/register', '/oauth/launch']) r.options(path, openCors);
  r.post('/oauth/token', openCors, perIp(config.authRateLimit * 4, false), form, wrap((req, res) => handleToken(common, req, res)));
  r.post('/oauth/introspect', openCors, form, wrap((req, res) => handleIntrospect(common, req, res)));
  r.post('/oauth/revoke', openCors, form, wrap((req, res) => handleRevoke(common, req, res)));
  r.post('/oauth/register', openCors, json, wrap((req, res) => handleRegister(issuer, req, res)));
  r.post('/oauth/launch', openCors, json, wrap((req, res) => handleLaunch(issuer, db, req, res)));
  r.use('/accounts', accountRoutes({ db, issuer, email: sender, baseUrl: config.baseUrl }));

  // OAuth endpoints answer OAuth error JSON, whatever went wrong (bad bodies included).
  r.use(['/oauth', '/accounts'], (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof OAuthError) return sendOAuthError(res, err);
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.parse.failed' || e.type === 'entity.too.large' || (typeof e.status === 'number' && e.status < 500)) {
      return sendOAuthError(res, new OAuthError('invalid_request', 'Malformed request body'));
    }
    log.error('oauth endpoint failed', { path: req.path, error: (err as Error)?.stack ?? String(err) });
    sendOAuthError(res, new OAuthError('server_error', 'Internal error'));
  });
  r.use(['/oauth', '/accounts'], (req: Request, res: Response) => {
    sendOAuthError(res, new OAuthError('invalid_request', `Unknown endpoint ${req.method} ${req.path}`, 404));
  });

  return { router: r, fhirAuth: fhirAuth(issuer, config.authRequired), endpoints, keys, email: sender, issuer };
}
