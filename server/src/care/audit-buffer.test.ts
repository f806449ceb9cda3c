import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel } from '../log.ts';
import { ReadAuditBuffer } from './audit.ts';

const event = (n: number): AuditEvent => ({ resourceType: 'AuditEvent', id: `e${n}` } as AuditEvent);
const ids = (events: Resource[]) => events.map((e) => e.id);
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ReadAuditBuffer', () => {
  beforeAll(() => setLogLevel('silent')); // the failure tests log on purpose

  it('writes a full batch at once, without waiting for the interval', async () => {
    const writes: Resource[][] = [];
    const buffer = new ReadAuditBuffer(async (events) => void writes.push(events), 60_000, 10);
    for (let n = 0; n < 9; n++) buffer.add(event(n));
    await tick();
    expect(writes).toEqual([]);
    buffer.add(event(9));
    await tick();
    expect(writes.map(ids)).toEqual([[...Array(10).keys()].map((n) => `e${n}`)]);
    await buffer.flush();
  });

  it('writes a large buffer in batches of at most maxBatch, each event once and in order', async () => {
    const writes: Resource[][] = [];
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    // The first write hangs, so events pile up behind it.
    const buffer = new ReadAuditBuffer(async (events) => {
      writes.push(events);
      if (writes.length === 1) await blocked;
    }, 60_000, 10);
    for (let n = 0; n < 10; n++) buffer.add(event(n));
    await tick();
    for (let n = 10; n < 45; n++) buffer.add(event(n));
    release();
    await buffer.flush();
    expect(writes.every((w) => w.length <= 10)).toBe(true);
    expect(writes.flatMap(ids)).toEqual([...Array(45).keys()].map((n) => `e${n}`));
  });

  it('keeps the events of a failed write and writes them with the next flush', async () => {
    const written: Resource[] = [];
    let fail = true;
    const buffer = new ReadAuditBuffer(async (events) => {
      if (fail) throw new Error('database down');
      written.push(...events);
    }, 60_000, 10);
    for (let n = 0; n < 25; n++) buffer.add(event(n));
    await buffer.flush();
    expect(written).toEqual([]);
    fail = false;
    await buffer.flush();
    expect(ids(written)).toEqual([...Array(25).keys()].map((n) => `e${n}`));
  });

  it('does not retry at every new event while writes fail', async () => {
    let attempts = 0;
    const buffer = new ReadAuditBuffer(async () => {
      attempts++;
      throw new Error('database down');
    }, 60_000, 5);
    for (let n = 0; n < 5; n++) buffer.add(event(n));
    await tick();
    expect(attempts).toBe(1);
    for (let n = 5; n < 40; n++) buffer.add(event(n));
    await tick();
    expect(attempts).toBe(1);
  });
});
