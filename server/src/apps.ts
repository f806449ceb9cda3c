/**
 * Serves the built SMART apps (apps/dist, made by `npm run build -w apps`) at /apps/<app>/.
 * Hashed assets are cached for a year; the HTML entries are never cached, so a new build is
 * picked up at once. Without a build, /apps answers 404 with a message saying how to make one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { OperationOutcomeError, outcome } from './fhir/outcomes.ts';

/** Where the build is: apps/dist, or APPS_DIST (a build made elsewhere with APPS_OUT_DIR). */
export const APPS_DIST = process.env.APPS_DIST || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../apps/dist');

export function appsRouter(dist = APPS_DIST): Router {
  const router = express.Router();
  router.use(
    express.static(dist, {
      index: 'index.html',
      setHeaders(res, file) {
        if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
        else if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      },
    }),
  );
  router.use((req: Request, _res: Response, next: NextFunction) => {
    const built = fs.existsSync(dist) && fs.readdirSync(dist).some((f) => fs.existsSync(path.join(dist, f, 'index.html')));
    const message = built ? `Unknown path /apps${req.path}` : 'The apps are not built: run `npm run build -w apps` (npm start does it)';
    next(new OperationOutcomeError(outcome('error', 'not-found', message), 404));
  });
  return router;
}
