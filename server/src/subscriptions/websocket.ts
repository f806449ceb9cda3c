/**
 * The R4 `websocket` Subscription channel on `$BASE_URL/fhir/websocket`: a client connects,
 * sends `bind <subscription id>`, gets `bound <id>`, and then `ping <id>` for every event that
 * matches, after which it fetches what changed (e.g. its Communication feed). Notifications reach
 * this process through the Broadcaster, whichever process delivered them.
 *
 * Who may bind: exactly who may read that Subscription through the FHIR API. The caller is
 * identified as on /fhir — a SMART access token, sent as `Authorization: Bearer …` on the
 * upgrade request, or (browsers cannot set that header on a WebSocket) as a second word of the
 * bind message: `bind <id> <access token>`. The token is verified (signature, audience, expiry,
 * revocation), its scopes and role become the same access policy (SMART ∩ role table, narrowed by
 * CARE), and the Subscription is read with it: not readable → `error <id> …`, no binding. With
 * AUTH_REQUIRED=off, a connection without a token acts as the platform, as HTTP requests do. A
 * socket is closed (4401) when the token it bound with expires. An invalid Authorization header
 * on the upgrade is refused with 401.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Subscription } from '@medplum/fhirtypes';
import { WebSocketServer, type WebSocket } from 'ws';
import { SmartPolicy } from '../access/smart-policy.ts';
import { isRole } from '../accounts/roles.ts';
import { CarePolicy } from '../care/policy.ts';
import type { RequestContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { callerOf } from '../oauth/bearer.ts';
import { verifyAccessToken, type Issuer } from '../oauth/tokens.ts';
import type { Broadcaster } from './broadcast.ts';

export const WEBSOCKET_PATH = '/fhir/websocket';

export interface WebsocketAuthOptions {
  db: Database;
  issuer: Issuer;
  /** AUTH_REQUIRED: binding needs a token (otherwise token-less sockets act as the platform). */
  authRequired: boolean;
}

class BindRefused extends Error {}

/** The caller a token names, with the access policy /fhir would give it; undefined token = the platform (AUTH off only). */
async function contextFor(options: WebsocketAuthOptions, token: string | undefined): Promise<{ ctx: RequestContext; exp?: number }> {
  const ctx: RequestContext = { requestId: randomUUID() };
  if (token === undefined) {
    if (options.authRequired) throw new BindRefused('authentication required: send a bearer token');
    return { ctx };
  }
  let claims;
  try {
    claims = await verifyAccessToken(options.issuer, token);
  } catch {
    throw new BindRefused('the access token is invalid, expired or revoked');
  }
  ctx.caller = callerOf(claims);
  const smart = new SmartPolicy({ scopes: ctx.caller.scopes, role: claims.role && isRole(claims.role) ? claims.role : undefined, fhirUser: claims.fhirUser, patient: claims.patient });
  ctx.access = new CarePolicy(smart, ctx.caller);
  return { ctx, exp: claims.exp };
}

/** Reads the Subscription as the caller; refuses when it is not visible or not a websocket channel. */
async function checkBind(options: WebsocketAuthOptions, ctx: RequestContext, id: string): Promise<void> {
  const repo = new FhirRepository(ctx, options.db, { referentialIntegrity: false });
  const sub = await repo.readResource<Subscription>('Subscription', id).catch(() => undefined);
  // One answer whether it does not exist or may not be seen.
  if (!sub) throw new BindRefused('no such Subscription, or you may not read it');
  if (sub.channel?.type !== 'websocket') throw new BindRefused('not a websocket Subscription');
}

function bearerOf(req: http.IncomingMessage): string | undefined | null {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  return /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(h)?.[1] ?? null;
}

export function attachSubscriptionWebsocket(server: http.Server, broadcaster: Broadcaster, options: WebsocketAuthOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8192 });
  const bound = new Map<string, Set<WebSocket>>();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== WEBSOCKET_PATH) return;
    const token = bearerOf(req);
    const refuse = () => {
      socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error="invalid_token"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    if (token === null) return refuse();
    const accept = (header?: { ctx: RequestContext; exp?: number }) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, header));
    if (token === undefined) return accept();
    contextFor(options, token).then(accept, refuse);
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket, header?: { ctx: RequestContext; exp?: number }) => {
    const mine = new Set<string>();
    let expiry: NodeJS.Timeout | undefined;
    const expireAt = (exp: number | undefined) => {
      if (!exp) return;
      const ms = exp * 1000 - Date.now();
      if (expiry && ms >= 0) return; // the earliest expiry already closes it
      clearTimeout(expiry);
      expiry = setTimeout(() => ws.close(4401, 'access token expired'), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    };
    ws.on('message', (data) => {
      const m = /^bind\s+([A-Za-z0-9\-.]{1,64})(?:\s+([A-Za-z0-9\-._~+/]+=*))?\s*$/.exec(data.toString());
      if (!m) {
        ws.send('error unknown command');
        return;
      }
      const [, id, token] = m;
      const who = token !== undefined ? contextFor(options, token) : header ? Promise.resolve(header) : contextFor(options, undefined);
      who
        .then(async ({ ctx, exp }) => {
          await checkBind(options, ctx, id);
          if (ws.readyState !== ws.OPEN) return;
          expireAt(exp);
          mine.add(id);
          if (!bound.has(id)) bound.set(id, new Set());
          bound.get(id)?.add(ws);
          ws.send(`bound ${id}`);
        })
        .catch((err) => {
          if (ws.readyState === ws.OPEN) ws.send(`error ${id} ${err instanceof BindRefused ? err.message : 'bind failed'}`);
        });
    });
    ws.on('close', () => {
      clearTimeout(expiry);
      for (const id of mine) {
        bound.get(id)?.delete(ws);
        if (bound.get(id)?.size === 0) bound.delete(id);
      }
    });
  });

  const unsubscribe = broadcaster.subscribe((n) => {
    for (const ws of bound.get(n.subscriptionId) ?? []) ws.send(`ping ${n.subscriptionId}`);
  });

  return {
    async close() {
      unsubscribe();
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
