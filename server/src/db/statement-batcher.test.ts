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
  it('sends what one turn adds as one batch, then gathers what waits for a free slot', async () => {
    const { batches, gates, send } = gatedSender();
    const batcher = new StatementBatcher<number, number>(send, { maxInFlight: 2, maxBatch: 3 });
    const answers = [1, 2].map((n) => batcher.add(n));
    // Nothing leaves before the end of the turn; then the two go together.
    expect(batches).toEqual([]);
    await settle();
    expect(batches).toEqual([[1, 2]]);
    answers.push(batcher.add(3));
    await settle();
    expect(batches).toEqual([[1, 2], [3]]);
    // Both slots busy: these wait, then go maxBatch at a time as slots free up.
    answers.push(...[4, 5, 6, 7].map((n) => batcher.add(n)));
    await settle();
    expect(batches).toEqual([[1, 2], [3]]);
    gates.shift()?.();
    await settle();
    expect(batches).toEqual([[1, 2], [3], [4, 5, 6]]);
    gates.shift()?.();
    await settle();
    expect(batches).toEqual([[1, 2], [3], [4, 5, 6], [7]]);
    while (gates.length) gates.shift()?.();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60, 70]);
  });

  it('splits one turn\'s items into batches of at most maxBatch', async () => {
    const { batches, gates, send } = gatedSender();
    const batcher = new StatementBatcher<number, number>(send, { maxInFlight: 2, maxBatch: 2 });
    const answers = [1, 2, 3, 4, 5].map((n) => batcher.add(n));
    await settle();
    expect(batches).toEqual([[1, 2], [3, 4]]);
    while (gates.length || batches.length < 3) {
      gates.shift()?.();
      await settle();
    }
    gates.shift()?.();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails every item of a batch whose sender throws, and goes on with the next batch', async () => {
    let calls = 0;
    const batcher = new StatementBatcher<number, number>(async (batch) => {
      if (calls++ === 0) throw new Error('connection lost');
      for (const p of batch) p.resolve(p.item);
    }, { maxInFlight: 1, maxBatch: 10 });
    const first = batcher.add(1);
    const failed = expect(first).rejects.toThrow('connection lost');
    await settle();
    const rest = [2, 3].map((n) => batcher.add(n));
    await failed;
    expect(await Promise.all(rest)).toEqual([2, 3]);
  });
});
