// Broker-wide guards against clients that would exhaust it: a cap on open connections (in
// all and per client address) and a per-address backoff on failed SASL authentication.
// The per-connection guards (request size before and after authentication, receive and idle
// timeouts) live in connection.ts, which asks these two for admission and for auth attempts.

/** Addresses whose failure record is kept at most; the oldest are forgotten first beyond it. */
const MAX_TRACKED_ADDRESSES = 10_000;
/** A failure record is forgotten this long after its address's last failed attempt. */
const FAILURE_MEMORY_MS = 60_000;
/** Refused connections are reported at most once per this interval (with a count), not one line each. */
const REPORT_EVERY_MS = 10_000;

/** The client address without its port (IPv4-mapped IPv6 written as IPv4). */
export function clientAddress(remoteAddress: string | undefined): string {
  const a = remoteAddress ?? '?';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Admits a new connection while fewer than `max` are open in all and fewer than `perAddress`
 * from its client address.
 *
 * @example
 * const limiter = new ConnectionLimiter(1000, 200, console.warn);
 * if (!limiter.admit(ip)) socket.destroy(); else socket.on('close', () => limiter.release(ip));
 */
export class ConnectionLimiter {
  private open = 0;
  private readonly byAddress = new Map<string, number>();
  private refused = 0;
  private lastReport = 0;

  constructor(
    private readonly max: number,
    private readonly perAddress: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** Counts the connection in and returns true, or returns false (the caller closes it). */
  admit(address: string): boolean {
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (this.open >= this.max || fromAddress >= this.perAddress) {
      this.report(
        this.open >= this.max
          ? `${this.open} connections are open (maxConnections)`
          : `${fromAddress} connections are open from ${address} (maxConnectionsPerIp)`,
      );
      return false;
    }
    this.open++;
    this.byAddress.set(address, fromAddress + 1);
    return true;
  }

  /** Counts an admitted connection out. */
  release(address: string): void {
    this.open--;
    const n = (this.byAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, n);
  }

  // A flood of refused connections gives one line per interval, so it cannot flood the log too.
  private report(why: string): void {
    this.refused++;
    const now = Date.now();
    if (now - this.lastReport < REPORT_EVERY_MS) return;
    this.warn(
      `sluice broker: refused ${this.refused} connection(s) in the last ${Math.round((now - (this.lastReport || now)) / 1000)} s: ${why}; raise the limit if these clients are expected`,
    );
    this.refused = 0;
    this.lastReport = now;
  }
}

interface FailureRecord {
  failures: number;
  /** No attempt from this address is verified before this time. */
  notBefore: number;
  lastFailure: number;
  /** The attempts of this address waiting their turn, one after the other. */
  tail: Promise<unknown>;
}

/**
 * Slows password guessing: after a failed attempt, the next attempt from the same client
 * address is verified no earlier than `baseDelayMs` later, doubling per failure up to
 * `maxDelayMs`. Attempts from an address with failures on record wait their turn one at a
 * time, so opening many connections does not guess faster. An address without recent
 * failures is never delayed; its record is forgotten a minute after its last failure.
 *
 * @example
 * const throttle = new AuthThrottle(100, 5000);
 * const ok = await throttle.attempt(ip, () => verifyPlain(token, users), (user) => user === null);
 */
export class AuthThrottle {
  private readonly records = new Map<string, FailureRecord>();

  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  /**
   * Runs `verify` now (no recent failures from `address`) or when its turn comes, and records
   * a failure when `failed(result)` says so.
   */
  attempt<T>(address: string, verify: () => T, failed: (result: T) => boolean): T | Promise<T> {
    const now = Date.now();
    let rec = this.records.get(address);
    if (rec !== undefined && now - rec.lastFailure > FAILURE_MEMORY_MS && rec.notBefore <= now) {
      this.records.delete(address);
      rec = undefined;
    }
    if (rec === undefined) return this.settle(address, verify(), failed);
    const record = rec;
    const run = record.tail.then(async () => {
      const wait = record.notBefore - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return this.settle(address, verify(), failed);
    });
    record.tail = run.catch(() => {});
    return run;
  }

  /** Failed attempts on record for `address` (0 when none or forgotten). */
  failures(address: string): number {
    return this.records.get(address)?.failures ?? 0;
  }

  private settle<T>(address: string, result: T, failed: (result: T) => boolean): T {
    if (!failed(result)) return result;
    const now = Date.now();
    let rec = this.records.get(address);
    if (rec === undefined) {
      if (this.records.size >= MAX_TRACKED_ADDRESSES) this.forgetOldest();
      rec = { failures: 0, notBefore: now, lastFailure: now, tail: Promise.resolve() };
      this.records.set(address, rec);
    }
    rec.failures++;
    rec.lastFailure = now;
    rec.notBefore = now + Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(rec.failures - 1, 30));
    return result;
  }

  // Bounds the table when failures come from very many addresses: the oldest failure records go.
  private forgetOldest(): void {
    let dropped = 0;
    for (const key of this.records.keys()) {
      this.records.delete(key);
      if (++dropped >= MAX_TRACKED_ADDRESSES / 10) break;
    }
  }
}
