/**
 * The thin Express adapter for the FHIR API: turns an HTTP request into a FhirRequest, hands it
 * to the router with the request's repository, and writes the FhirResponse back.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { FhirRepository } from './repo/repository.ts';
import type { FhirRouter } from './router.ts';
import type { FhirRequest, FhirResponse } from './types.ts';
import { OperationOutcomeError, badRequest, outcome } from './outcomes.ts';
import type { RequestContext } from '../context.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];

export interface FhirRoutesOptions {
  router: FhirRouter;
  bodyLimitBytes: number;
  /** Builds the repository for a request (the seam where access rules are applied). */
  repositoryFor: (req: Request, ctx: RequestContext) => FhirRepository;
}

/** Reads the request context that the app's first middleware attached. */
export function contextOf(res: Response): RequestContext {
  return res.locals.context as RequestContext;
}

function wantsXmlOnly(req: Request): boolean {
  const format = typeof req.query._format === 'string' ? req.query._format : undefined;
  if (format) return /xml/i.test(format) && !/json/i.test(format);
  const accept = req.headers.accept;
  return !!accept && /xml/i.test(accept) && !/json|\*\/\*/i.test(accept);
}

function send(req: Request, res: Response, out: FhirResponse): void {
  res.status(out.status);
  for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
  if (out.body === undefined || out.status === 304) {
    res.end();
    return;
  }
  let text = typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
  // A handler that names its own content type (e.g. NDJSON files) is served as it is.
  if (out.headers['content-type']) {
    res.end(text);
    return;
  }
  if (req.query._pretty === 'true') text = JSON.stringify(JSON.parse(text), null, 2);
  // Answer plain JSON to clients that asked only for it.
  const accept = req.headers.accept ?? '';
  const type = /application\/json/.test(accept) && !/fhir\+json/.test(accept) ? 'application/json; charset=utf-8' : FHIR_JSON;
  res.setHeader('content-type', type);
  res.end(text);
}

export function fhirRoutes(options: FhirRoutesOptions): express.Router {
  const r = express.Router();
  r.use(
    express.json({ type: JSON_TYPES, limit: options.bodyLimitBytes, strict: false }),
    express.urlencoded({ extended: false, limit: options.bodyLimitBytes }),
  );
  r.use((req: Request, _res: Response, next: NextFunction) => {
    if (wantsXmlOnly(req)) {
      next(new OperationOutcomeError(outcome('error', 'not-supported', 'Only JSON is supported (application/fhir+json)'), 406));
      return;
    }
    const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && hasBody) {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const formSearch = type === 'application/x-www-form-urlencoded' && /\/_search$/.test(req.path);
      if (!JSON_TYPES.includes(type) && !formSearch) {
        next(new OperationOutcomeError(outcome('error', 'not-supported', `Unsupported media type "${type || 'none'}": send application/fhir+json`), 415));
        return;
      }
    }
    next();
  });
  r.all('/{*path}', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const ctx = contextOf(res);
      const fhirReq: FhirRequest = {
        method: req.method as FhirRequest['method'],
        path: req.path,
        query: req.query as FhirRequest['query'],
        body: req.body,
        headers: req.headers as Record<string, string | undefined>,
      };
      if (['POST', 'PUT', 'PATCH'].includes(req.method) && fhirReq.body === undefined && !/\/_search$/.test(req.path) && !req.path.includes('$')) {
        throw badRequest('The request needs a JSON body');
      }
      const out = await options.router.handle(fhirReq, options.repositoryFor(req, ctx));
      if (out.status >= 400 && out.body && typeof out.body === 'object' && out.body.resourceType === 'OperationOutcome') {
        // Every error names its request id, so a user's report can be matched to the log line.
        out.body = { ...out.body, issue: out.body.issue?.map((i, n) => (n === 0 ? { ...i, diagnostics: `request id ${ctx.requestId}` } : i)) };
      }
      send(req, res, out);
    } catch (err) {
      next(err);
    }
  });
  return r;
}
