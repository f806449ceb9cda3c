/**
 * Starts the real application on a random port over a fresh test database, for end-to-end HTTP
 * tests. `fetchJson` is a small helper for FHIR calls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { setLogLevel } from '../src/log.ts';
import { createTestDatabase, type TestDatabase, type TestDbKind } from './db.ts';

export interface TestServer {
  url: string;
  fhir: string;
  config: Config;
  app: App;
  database: TestDatabase;
  /** The listening HTTP server (e.g. to attach the websocket channel). */
  http: http.Server;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, kind?: TestDbKind): Promise<TestServer> {
  setLogLevel((process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent');
  const database = await createTestDatabase(kind);
  const server = http.createServer();
  // As in main.ts: idle connections outlive fetch's own keep-alive, so a test that pauses between
  // requests never reuses a socket the server is closing at that moment (ECONNRESET).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const config = loadConfig({ PORT: String(port), BASE_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent', AUTH_REQUIRED: 'off', ...env });
  const app = createApp(config, database.db);
  server.on('request', app.express);
  return {
    url: config.baseUrl,
    fhir: config.fhirBaseUrl,
    config,
    app,
    database,
    http: server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch with a FHIR JSON body and a parsed JSON answer (body undefined when empty). */
export async function fetchJson<T = any>(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/fhir+json', ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/fhir+json';
  }
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
