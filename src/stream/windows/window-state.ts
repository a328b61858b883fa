import type { Envelope, RecordKey } from '../envelope.js';

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
  readonly partition = 0;
  readonly offset = 0;
  private idText: string | undefined;

  constructor(
    public value: unknown,
    public key: RecordKey | undefined,
    public eventTime: number,
    public appendTime: number,
    public topic: string,
    public stamps: number[],
    /** What the id is made of, kept apart: a later stage may change `key` or `topic`. */
    private readonly ns: string,
    private readonly windowKey: RecordKey,
    private readonly start: number,
    private readonly update: number,
  ) {}

  get id(): string {
    const base = `${this.ns}:${this.windowKey}:${this.start}`;
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
