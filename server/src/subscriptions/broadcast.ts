/**
 * Carries "subscription X fired" from whichever process delivered it to the server processes
 * holding websockets: Redis pub/sub when REDIS_URL is set, an in-process emitter otherwise.
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

export interface Notification {
  subscriptionId: string;
  /** The versioned reference that triggered it. */
  focus: string;
  eventKey: string;
}

export interface Broadcaster {
  publish(n: Notification): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (n: Notification) => void): () => void;
  close(): Promise<void>;
}

export class LocalBroadcaster implements Broadcaster {
  private readonly emitter = new EventEmitter();
  async publish(n: Notification): Promise<void> {
    this.emitter.emit('n', n);
  }
  subscribe(listener: (n: Notification) => void): () => void {
    this.emitter.on('n', listener);
    return () => this.emitter.off('n', listener);
  }
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisBroadcaster implements Broadcaster {
  private readonly pub: Redis;
  private sub: Redis | undefined;
  private readonly local = new LocalBroadcaster();
  private readonly channel: string;
  private readonly url: string;

  constructor(url: string, prefix: string) {
    this.url = url;
    this.pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.channel = `${prefix}:subscription-notifications`;
  }

  async publish(n: Notification): Promise<void> {
    await this.pub.publish(this.channel, JSON.stringify(n));
  }

  subscribe(listener: (n: Notification) => void): () => void {
    if (!this.sub) {
      // Only processes that listen (servers with websockets) open the subscriber connection.
      this.sub = new Redis(this.url);
      this.sub.subscribe(this.channel).catch(() => undefined);
      this.sub.on('message', (_channel: string, message: string) => {
        try {
          void this.local.publish(JSON.parse(message) as Notification);
        } catch {
          /* ignore malformed messages */
        }
      });
    }
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.local.close();
    this.sub?.disconnect();
    this.pub.disconnect();
  }
}

export function createBroadcaster(redisUrl: string | undefined, prefix: string): Broadcaster {
  return redisUrl ? new RedisBroadcaster(redisUrl, prefix) : new LocalBroadcaster();
}
