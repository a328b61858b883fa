import type { Envelope, RecordKey } from '../envelope.js';

/** One open window of one key. A class, not a tuple: its fields keep one shape on the hot path. */
export class Win {
  constructor(
    readonly start: number,
    readonly end: number,
    /** One accumulator per aggregate, in the operator's aggregate order. */
    readonly accs: unknown[],
    /** Running results emitted so far (emit 'update'): numbers their ids. */
    public updates: number,
  ) {}
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
    private readonly win: Win,
    private readonly update: number,
  ) {}

  get id(): string {
    const base = `${this.ns}:${this.windowKey}:${this.win.start}`;
    return (this.idText ??= this.update > 0 ? `${base}#${this.update}` : base);
  }

  set id(id: string) {
    this.idText = id;
  }
}

/** How a key's windows are checkpointed: [start, end, accumulators, updates] per window. */
type StoredWin = [number, number, unknown[], number];

/** A copy for the store: accumulators may be mutated in place later (HyperLogLog registers). */
export function encodeWindows(wins: Win[]): StoredWin[] {
  return wins.map((w) => [w.start, w.end, structuredClone(w.accs), w.updates]);
}

export function decodeWindows(stored: unknown): Win[] {
  return (stored as StoredWin[]).map((s) => new Win(s[0], s[1], s[2], s[3]));
}
