import { derivedId, type Envelope, type RecordKey } from '../envelope.js';

/**
 * One open window of one key, and a link to the key's next one: a key's windows are a list
 * headed by the value kept in the keyed state, so a key needs no array of its own (one per key
 * per window period was a fifth of the operator's allocations).
 */
export class Win {
  next: Win | undefined = undefined;

  constructor(
    public start: number,
    public end: number,
    /** One accumulator per aggregate, in the operator's aggregate order. */
    public accs: unknown[],
    /** Running results emitted so far (emit 'update'): numbers their ids. */
    public updates: number,
  ) {}
}

/**
 * Closed windows kept for reuse, linked through `next`: a new window then allocates nothing
 * (its accumulators are refilled in place). Bounded, so a burst of keys is not held forever.
 */
export class WinPool {
  private free: Win | undefined;
  private size = 0;

  constructor(private readonly max = 1 << 16) {}

  take(): Win | undefined {
    const w = this.free;
    if (w !== undefined) {
      this.free = w.next;
      w.next = undefined;
      this.size--;
    }
    return w;
  }

  /** `w` must be unreachable from here on (unlinked, no result refers to it). */
  release(w: Win): void {
    if (this.size >= this.max) return;
    w.next = this.free;
    this.free = w;
    this.size++;
  }
}

/**
 * A window result in flight. Its id (namespace, key, window start, update number: stable
 * across replays) is built on first read, since most sinks never ask for it and formatting two
 * numbers per result was a tenth of the operator's time.
 */
export class ResultEnvelope implements Envelope {
  // Declared, then assigned once in the constructor: class fields would first define each
  // one as undefined and then assign it, twice the work on a path taken per result.
  declare value: unknown;
  declare key: RecordKey | undefined;
  declare eventTime: number;
  declare appendTime: number;
  declare topic: string;
  declare partition: number;
  declare offset: number;
  declare stamps: number[];
  /** What the id is made of, kept apart: a later stage may change `key` or `topic`. */
  declare private readonly ns: string;
  declare private readonly windowKey: RecordKey;
  declare private readonly start: number;
  declare private readonly update: number;
  declare private idText: string | undefined;

  constructor(
    value: unknown,
    eventTime: number,
    appendTime: number,
    stamps: number[],
    ns: string,
    key: RecordKey,
    start: number,
    update: number,
  ) {
    this.value = value;
    this.key = key;
    this.eventTime = eventTime;
    this.appendTime = appendTime;
    this.topic = ns;
    this.partition = 0;
    this.offset = 0;
    this.stamps = stamps;
    this.ns = ns;
    this.windowKey = key;
    this.start = start;
    this.update = update;
    this.idText = undefined;
  }

  get id(): string {
    const base = derivedId(this.ns, this.windowKey, this.start);
    return (this.idText ??= this.update > 0 ? `${base}#${this.update}` : base);
  }

  set id(id: string) {
    this.idText = id;
  }
}

/** How a key's windows are checkpointed: [start, end, accumulators, updates] per window. */
type StoredWin = [number, number, unknown[], number];

/** A copy for the store: accumulators may be mutated in place later (HyperLogLog registers). */
export function encodeWindows(head: Win): StoredWin[] {
  const out: StoredWin[] = [];
  for (let w: Win | undefined = head; w !== undefined; w = w.next)
    out.push([w.start, w.end, structuredClone(w.accs), w.updates]);
  return out;
}

export function decodeWindows(stored: unknown): Win {
  const wins = (stored as StoredWin[]).map((s) => new Win(s[0], s[1], s[2], s[3]));
  for (let i = 1; i < wins.length; i++) wins[i - 1]!.next = wins[i];
  return wins[0]!; // never empty: a key whose windows all closed is deleted, not stored
}
