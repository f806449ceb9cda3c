import { describe, expect, it } from 'vitest';
import { StatementBatcher } from './statement-batcher.ts';

/** A sender whose batches stay open until released, recording what each carried. */
function gatedSender() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const send = async (batch: { item: number; resolve: (n: number) => void }[]) => {
    batches.push(batch.map((p) => p.item));
    await new Promise<void>((release) => gates.push(release));
    for (const p of batch) p.resolve(p.item * 10);
  };
  return { batches, gates, send };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('sends at once while under the in-flight limit, then gathers what waits into one batch', async () => {
    const { batches, gates, send } = gatedSender();
    const batcher = new StatementBatcher<number, number>(send, { maxInFlight: 2, maxBatch: 3 });
    const answers = [1, 2, 3, 4, 5, 6].map((n) => batcher.add(n));
    expect(batches).toEqual([[1], [2]]);
    gates.shift()?.();
    await settle();
    // The first free slot takes the next three (maxBatch); the sixth waits for another slot.
    expect(batches).toEqual([[1], [2], [3, 4, 5]]);
    gates.shift()?.();
    await settle();
    expect(batches).toEqual([[1], [2], [3, 4, 5], [6]]);
    while (gates.length) gates.shift()?.();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('fails every item of a batch whose sender throws, and goes on with the next batch', async () => {
    let calls = 0;
    const batcher = new StatementBatcher<number, number>(async (batch) => {
      if (calls++ === 0) throw new Error('connection lost');
      for (const p of batch) p.resolve(p.item);
    }, { maxInFlight: 1, maxBatch: 10 });
    const first = batcher.add(1);
    const rest = [2, 3].map((n) => batcher.add(n));
    await expect(first).rejects.toThrow('connection lost');
    expect(await Promise.all(rest)).toEqual([2, 3]);
  });
});
