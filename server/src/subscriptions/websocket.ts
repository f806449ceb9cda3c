/**
 * The R4 `websocket` Subscription channel on `$BASE_URL/fhir/websocket`: a client connects,
 * sends `bind <subscription id>`, gets `bound <id>`, and then `ping <id>` for every event that
 * matches, after which it fetches what changed (e.g. its Communication feed). Notifications reach
 * this process through the Broadcaster, whichever process delivered them.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Broadcaster } from './broadcast.ts';

export const WEBSOCKET_PATH = '/fhir/websocket';

export function attachSubscriptionWebsocket(server: http.Server, broadcaster: Broadcaster): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const bound = new Map<string, Set<WebSocket>>();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== WEBSOCKET_PATH) return;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket) => {
    const mine = new Set<string>();
    ws.on('message', (data) => {
      const m = /^bind\s+([A-Za-z0-9\-.]{1,64})\s*$/.exec(data.toString());
      if (!m) {
        ws.send('error unknown command');
        return;
      }
      const id = m[1];
      mine.add(id);
      if (!bound.has(id)) bound.set(id, new Set());
      bound.get(id)?.add(ws);
      ws.send(`bound ${id}`);
    });
    ws.on('close', () => {
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
