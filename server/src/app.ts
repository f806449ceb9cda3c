/**
 * Express assembly: request context first, then CORS, health, the FHIR API, and one error
 * handler last that turns every failure into an OperationOutcome without leaking internals.
 */
import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config.ts';
import type { RequestContext } from './context.ts';
import type { Database } from './db/database.ts';
import { buildCapabilityStatement } from './fhir/capability.ts';
import { loadDefinitions } from './fhir/definitions.ts';
import { buildOpenApi } from './fhir/openapi.ts';
import { OperationOutcomeError, outcome } from './fhir/outcomes.ts';
import { FhirRepository } from './fhir/repo/repository.ts';
import { setLocalBaseUrl } from './fhir/references.ts';
import { FhirRouter } from './fhir/router.ts';
import { contextOf, fhirRoutes } from './fhir/routes.ts';
import { log } from './log.ts';
import { twilioStatusRoutes } from './notify/status-callback.ts';
import { appsRouter } from './apps.ts';
import { createAuthServer, type AuthServer } from './oauth/server.ts';
import { createCare, type Care } from './care/middleware.ts';
import { VERSION } from './version.ts';

export interface App {
  express: express.Express;
  router: FhirRouter;
  /** The SMART authorization server (keys, e-mail sender) — tests read its dev outbox. */
  auth: AuthServer;
  /** Care rules and the audit trail (flushed at shutdown). */
  care: Care;
}

/** Maps errors thrown by body parsers and the database to FHIR outcomes. */
function toOutcomeError(err: unknown): OperationOutcomeError | undefined {
  if (err instanceof OperationOutcomeError) return err;
  const e = err as { type?: string; status?: number; code?: string };
  if (e.type === 'entity.parse.failed') return new OperationOutcomeError(outcome('error', 'structure', 'Malformed JSON in the request body'), 400);
  if (e.type === 'entity.too.large') return new OperationOutcomeError(outcome('error', 'too-long', 'The request body is larger than the server accepts'), 413);
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new OperationOutcomeError(outcome('error', 'not-supported', 'Unsupported content encoding or charset'), 415);
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new OperationOutcomeError(outcome('error', 'invalid', 'Bad request'), e.status);
  }
  if (e.code === '40001' || e.code === '40P01') {
    return new OperationOutcomeError(outcome('error', 'conflict', 'Concurrent update conflict; retry the request'), 409);
  }
  return undefined;
}

export function createApp(config: Config, db: Database): App {
  loadDefinitions();
  setLocalBaseUrl(config.fhirBaseUrl);
  const auth = createAuthServer(config, db);
  const care = createCare(db);
  const { authorize, token, introspect, revoke, register } = auth.endpoints;
  const capability = buildCapabilityStatement({ fhirBaseUrl: config.fhirBaseUrl, baseUrl: config.baseUrl, version: VERSION, oauth: { authorize, token, introspect, revoke, register } });
  const openapi = buildOpenApi(capability, config.fhirBaseUrl);
  const router = new FhirRouter({ fhirBaseUrl: config.fhirBaseUrl, capabilityStatement: () => capability });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.set('etag', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[\w\-.]{1,64}$/.test(incoming) ? incoming : randomUUID();
    const context: RequestContext = { requestId, remoteAddress: req.socket.remoteAddress };
    res.locals.context = context;
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      log.debug('request', {
        requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    next();
  });

  const corsMiddleware = cors({
    origin: '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Exist', 'If-None-Match', 'If-Modified-Since', 'Prefer', 'X-Request-Id'],
    exposedHeaders: ['Location', 'ETag', 'Last-Modified', 'Content-Location', 'X-Request-Id'],
    maxAge: 600,
  });

  app.get('/healthz', async (_req, res) => {
    try {
      await db.query('SELECT 1');
      res.json({ status: 'ok', database: db.kind });
    } catch {
      res.status(503).json({ status: 'unavailable' });
    }
  });

  // The authorization server (/oauth/*, /accounts/*, discovery), then bearer tokens on /fhir.
  app.use(auth.router);
  app.use('/fhir', corsMiddleware);
  app.get('/fhir/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/fhir', auth.fhirAuth);
  // CARE narrows what authenticated callers see and records their accesses.
  app.use('/fhir', care.middleware);
  app.use(
    '/fhir',
    fhirRoutes({
      router,
      bodyLimitBytes: config.bodyLimitBytes,
      repositoryFor: (_req, ctx) => new FhirRepository(ctx, db, { referentialIntegrity: config.referentialIntegrity }),
    }),
  );

  // Twilio SMS status callbacks (signature-checked; see notify/status-callback.ts).
  app.use(twilioStatusRoutes(config, db));

  // The SMART apps (booking, charting, analytics), served from the same origin as the API.
  app.use('/apps', appsRouter());

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new OperationOutcomeError(outcome('error', 'not-found', `Unknown path ${req.path}`), 404));
  });

  // Last: every error becomes an OperationOutcome carrying the request id; internals stay in the log.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ctx = contextOf(res);
    const known = toOutcomeError(err);
    const status = known?.status ?? 500;
    const body = known?.outcome ?? outcome('error', 'exception', 'Internal server error');
    if (!known) log.error('unhandled error', { requestId: ctx?.requestId, method: req.method, path: req.path, error: (err as Error)?.stack ?? String(err) });
    const issue = body.issue?.map((i, n) => (n === 0 ? { ...i, diagnostics: `request id ${ctx?.requestId}` } : i));
    for (const [k, v] of Object.entries(known?.headers ?? {})) res.setHeader(k, v);
    res.status(status).type('application/fhir+json').send(JSON.stringify({ ...body, issue }));
  });

  return { express: app, router, auth, care };
}
