/**
 * Moves outbox events on: claims due events in batches (leased, so several dispatchers on several
 * machines share the work and a killed one's events come back after the lease), hands each batch
 * to a sink (BullMQ, or the in-process runner), and sleeps until a write in this process
 * commits (db/commit-signal.ts) or the poll interval passes (writes of other processes).
 */
import type { Database } from '../db/database.ts';
import { log } from '../log.ts';
import { claimDue, type OutboxRow } from './outbox.ts';
import { onVersionsCommitted } from '../db/commit-signal.ts';

export type EventSink = (rows: OutboxRow[]) => Promise<void>;

export interface DispatcherOptions {
  sink: EventSink;
  batchSize?: number;
  /** How long claimed events stay with this dispatcher before others may take them. */
  leaseMs?: number;
  pollMs?: number;
  /** After a wake-up by a write, wait this long so one claim gathers the writes that follow. */
  gatherMs?: number;
}

export class Dispatcher {
  private readonly db: Database;
  private readonly options: Required<DispatcherOptions>;
  private running = false;
  private kicked = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(db: Database, options: DispatcherOptions) {
    this.db = db;
    this.options = { batchSize: 200, leaseMs: 60_000, pollMs: db.kind === 'pglite' ? 200 : 1000, gatherMs: 50, ...options };
  }

  async start(): Promise<void> {
    this.running = true;
    // Writes committed by this process wake the dispatcher at once (see db/commit-signal.ts).
    this.unsubscribe = onVersionsCommitted(() => this.kick());
    this.loop = this.run();
  }

  /**
   * Check for events now (a committed write in this process asks for it). A kick while a batch is being handled is
   * remembered, so the loop claims again at once instead of sleeping through the poll interval.
   */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      let claimed = 0;
      try {
        const rows = await claimDue(this.db, this.options.batchSize, this.options.leaseMs);
        claimed = rows.length;
        if (rows.length) await this.options.sink(rows);
      } catch (err) {
        // Claimed rows come back when their lease ends; nothing is lost.
        if (this.running) log.error('outbox dispatch failed', { error: (err as Error).message });
      }
      if (claimed === this.options.batchSize) continue; // more are waiting
      if (!this.kicked) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
      // Woken by a write: let a few more commits land so one claim carries them all (under load
      // this turns one round of claim, match and hand-off per event into one per batch).
      if (this.kicked && this.running && this.options.gatherMs > 0) await new Promise((r) => setTimeout(r, this.options.gatherMs));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.kick();
    await this.loop;
  }
}
