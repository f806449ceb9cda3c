/**
 * Shares statements between concurrent requests. Items added during one turn of the event loop
 * go together: the batch leaves at the end of the turn (setImmediate), so requests whose bytes
 * arrived together share a statement; and items that arrive while `maxInFlight` batches are on
 * their way to the database wait, and then go together in the next batch. A quiet server sends
 * each item after a few microseconds; under load one statement serves several requests, saving
 * the per-statement cost (round trip, socket writes, executor start, commit). Used by the group
 * commit of creates, the batched reads by id (fhir/repo/) and the token revocation checks.
 */
interface Pending<Item, Answer> {
  item: Item;
  resolve: (answer: Answer) => void;
  reject: (err: unknown) => void;
}

/** Sends one batch; settles every pending item of it (resolve or reject each). */
export type SendBatch<Item, Answer> = (batch: Pending<Item, Answer>[]) => Promise<void>;

export class StatementBatcher<Item, Answer> {
  private readonly waiting: Pending<Item, Answer>[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  private readonly send: SendBatch<Item, Answer>;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;

  constructor(send: SendBatch<Item, Answer>, options: { maxInFlight: number; maxBatch: number }) {
    this.send = send;
    this.maxInFlight = options.maxInFlight;
    this.maxBatch = options.maxBatch;
  }

  /** Resolves with the item's own answer once its batch has been sent. */
  add(item: Item): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      // One send at the end of this turn, whatever else this turn adds.
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.pumpScheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.inFlight++;
      this.send(batch)
        .catch((err: unknown) => {
          // A sender that throws instead of settling its items fails them all.
          for (const p of batch) p.reject(err);
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}

/**
 * `create(db)` made once per database and shared by every caller on it (a batcher must be shared
 * to batch anything).
 */
export function onePerDatabase<Db extends object, T>(create: (db: Db) => T): (db: Db) => T {
  const made = new WeakMap<Db, T>();
  return (db) => {
    let one = made.get(db);
    if (one === undefined) {
      one = create(db);
      made.set(db, one);
    }
    return one;
  };
}
