/** What the outbox carries: one committed resource version, and the work it fans out to. */
export interface ChangeEvent {
  type: string;
  id: string;
  version: number;
  /** POST, PUT, PATCH or DELETE. */
  method: string;
  lastUpdated: string;
}

/** A unit of delivery for one event: a Subscription to notify or a bot to run. */
export interface Target {
  kind: 'subscription' | 'bot' | 'platform';
  /** Subscription id, bot name, or platform handler name. */
  name: string;
}

/** Stable key of an event (the versioned reference), used for idempotency. */
export function eventKey(e: Pick<ChangeEvent, 'type' | 'id' | 'version'>): string {
  return `${e.type}/${e.id}/_history/${e.version}`;
}

export function targetKey(t: Target): string {
  return `${t.kind}:${t.name}`;
}
