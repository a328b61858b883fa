/**
 * Deterministic card-transaction generator after the simulator of the Fraud Detection Handbook
 * (Le Borgne, Siblini, Lebichot, Bontempi: "Reproducible Machine Learning for Credit Card Fraud
 * Detection – Practical Handbook", ULB / Worldline, chapter "Transaction data simulator").
 *
 * Design, as in the handbook:
 * - customers: home (x, y) ~ U(0, 100)², mean_amount ~ U(5, 100), std_amount = mean_amount / 2,
 *   mean_nb_tx_per_day ~ U(0, 4);
 * - terminals: (x, y) ~ U(0, 100)²; a customer may use the terminals strictly closer than
 *   `radius` (handbook r = 5) to home;
 * - per customer and day: nb_tx ~ Poisson(mean_nb_tx_per_day); per tx the second of the day is
 *   trunc(Normal(43200, 20000)), kept only when 0 < s < 86400 (the handbook's test); the amount is
 *   Normal(mean_amount, std_amount), re-drawn as U(0, 2·mean_amount) when negative, rounded to
 *   cents; the terminal is uniform among the available ones (no tx when there are none);
 * - scenario 1: amount > 220 is fraud;
 * - scenario 2: every day, 2 terminals (per 10 000 terminals) are compromised for that day and the
 *   next 27 (28 days): all their tx are fraud;
 * - scenario 3: every day, 3 customers (per 5 000 customers) are compromised for 14 days: each
 *   compromise picks each of the customer's tx in the window with probability 1/3 (the handbook
 *   picks exactly ⌊n/3⌋ of the window's n tx, which needs the future; same rate), multiplies its
 *   amount by 5 and makes it fraud.
 * Labels are applied in the order 1, 2, 3; `scenario` records the last one that applied.
 *
 * Differences that keep the idea but not numpy's stream: sfc32 instead of MT19937, one random
 * stream per (seed, day) for the legitimate draws and one per (seed, day) for the fraud draws
 * (so fraud settings never change the legitimate traffic), and compromise counts scaled with the
 * population (fractional expectations are drawn as floor + Bernoulli) so fraud rates do not
 * depend on its size.
 *
 * On the handbook's defaults (seed 0, 183 days): 9 690 tx/day, 0.86 % fraud (scenario 1: 0.06 %,
 * 2: 0.51 %, 3: 0.29 %); the handbook reports ≈ 9 590 tx/day and ≈ 0.84 %.
 *
 * @example
 * ```ts
 * import { TransactionGenerator, generateTransactions, toCsvRow, TX_CSV_HEADER } from './generator.js';
 * const gen = new TransactionGenerator({ seed: 7 });  // 5000 customers, 10000 terminals, 2018-04-01
 * const day0 = gen.nextDay();                         // 9 772 tx, sorted by ts, ids 0..9771
 * const first = generateTransactions(100_000, { seed: 7, customers: 500, terminals: 1000 });
 * console.log([TX_CSV_HEADER, ...first.slice(0, 3).map(toCsvRow)].join('\n'));
 * // TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD
 * // 0,2018-04-01 00:30:00,184,449,31.20,0
 * // 1,2018-04-01 00:36:25,306,125,101.06,0
 * // 2,2018-04-01 00:44:29,186,444,20.21,0
 * ```
 */
import { Rng, deriveSeed } from './random.js';
import { terminalsWithinRadius } from './terminal-grid.js';
import {
  HANDBOOK,
  checkCount,
  checkRate,
  parseStartDate,
  type GeneratorOptions,
  type Transaction,
} from './transaction.js';

export { HANDBOOK, TX_CSV_HEADER, toCsvRow, type GeneratorOptions, type Transaction } from './transaction.js';

const SECONDS_PER_DAY = 86400;
const STREAM_POPULATION = 0;
const STREAM_TRAFFIC = 1;
const STREAM_FRAUD = 2;

/**
 * Simulated customers and terminals plus the fraud state, generating one day at a time.
 * Everything depends only on the options: two instances with equal options produce equal days.
 */
export class TransactionGenerator {
  private readonly opts: GeneratorOptions;
  private readonly seed: number;
  private readonly nCustomers: number;
  private readonly nTerminals: number;
  private readonly startMs: number;
  private readonly terminalsPerDay: number;
  private readonly customersPerDay: number;

  // Population (immutable once built).
  private readonly meanAmount: Float64Array;
  private readonly stdAmount: Float64Array;
  private readonly expNegTxPerDay: Float64Array; // exp(-mean_nb_tx_per_day), for Knuth's Poisson
  private readonly termOffsets: Int32Array; // customer c may use termIds[termOffsets[c] .. termOffsets[c+1])
  private readonly termIds: Int32Array;
  private readonly active: Int32Array; // customers with at least one terminal
  readonly customerX: Float64Array;
  readonly customerY: Float64Array;
  readonly meanTxPerDay: Float64Array;
  readonly terminalX: Float64Array;
  readonly terminalY: Float64Array;

  // Fraud state.
  private readonly terminalUntil: Int32Array; // terminal compromised on days < terminalUntil[t]
  private readonly customerHits: Int32Array; // number of active compromises of each customer
  private readonly customerRing: number[][]; // compromises started on day d live in slot d % window

  // Per-day scratch buffers, grown on demand.
  private cap = 0;
  private bufSec = new Int32Array(0);
  private bufCust = new Int32Array(0);
  private bufTerm = new Int32Array(0);
  private bufAmount = new Float64Array(0);
  private bufScenario = new Uint8Array(0);
  private bufOrder = new Int32Array(0);
  private readonly secCounts = new Int32Array(SECONDS_PER_DAY + 1);

  private readonly traffic = new Rng(0);
  private readonly fraudRng = new Rng(0);
  private nextDayIndex = 0;
  private nextId = 0;

  constructor(opts: GeneratorOptions = {}) {
    this.opts = { ...opts };
    this.seed = opts.seed ?? 0;
    deriveSeed(this.seed); // validates the seed
    const C = (this.nCustomers = checkCount('customers', opts.customers ?? HANDBOOK.customers));
    const T = (this.nTerminals = checkCount('terminals', opts.terminals ?? HANDBOOK.terminals));
    const radius = checkRate('radius', opts.radius ?? HANDBOOK.radius);
    this.startMs = parseStartDate(opts.startDate ?? HANDBOOK.startDate);
    this.terminalsPerDay =
      (checkRate(
        'compromisedTerminalsPerDay',
        opts.compromisedTerminalsPerDay ?? HANDBOOK.compromisedTerminalsPerDay,
      ) *
        T) /
      HANDBOOK.terminals;
    this.customersPerDay =
      (checkRate(
        'compromisedCustomersPerDay',
        opts.compromisedCustomersPerDay ?? HANDBOOK.compromisedCustomersPerDay,
      ) *
        C) /
      HANDBOOK.customers;

    // Customer profiles, then terminal profiles, from two independent population streams.
    const rng = new Rng(deriveSeed(this.seed, STREAM_POPULATION, 0));
    this.customerX = new Float64Array(C);
    this.customerY = new Float64Array(C);
    this.meanAmount = new Float64Array(C);
    this.stdAmount = new Float64Array(C);
    this.meanTxPerDay = new Float64Array(C);
    this.expNegTxPerDay = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      this.customerX[c] = rng.range(0, HANDBOOK.area);
      this.customerY[c] = rng.range(0, HANDBOOK.area);
      const mean = rng.range(5, 100);
      this.meanAmount[c] = mean;
      this.stdAmount[c] = mean / 2;
      this.meanTxPerDay[c] = rng.range(0, 4);
      this.expNegTxPerDay[c] = Math.exp(-this.meanTxPerDay[c]);
    }
    rng.reseed(deriveSeed(this.seed, STREAM_POPULATION, 1));
    this.terminalX = new Float64Array(T);
    this.terminalY = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      this.terminalX[t] = rng.range(0, HANDBOOK.area);
      this.terminalY[t] = rng.range(0, HANDBOOK.area);
    }

    [this.termOffsets, this.termIds] = terminalsWithinRadius(
      { x: this.customerX, y: this.customerY },
      { x: this.terminalX, y: this.terminalY },
      radius,
    );
    let nActive = 0;
    const active = new Int32Array(C);
    for (let c = 0; c < C; c++) if (this.termOffsets[c + 1] > this.termOffsets[c]) active[nActive++] = c;
    this.active = active.slice(0, nActive);

    this.terminalUntil = new Int32Array(T);
    this.customerHits = new Int32Array(C);
    this.customerRing = Array.from({ length: HANDBOOK.customerWindowDays }, () => []);
  }

  /** Index of the next day `nextDay()` will simulate (= days simulated so far); day 0 is startDate. */
  get day(): number {
    return this.nextDayIndex;
  }

  /** Number of customers with at least one terminal in range (the others never transact). */
  get activeCustomers(): number {
    return this.active.length;
  }

  /** The terminals customer `c` may use, ascending. */
  terminalsOf(c: number): Int32Array {
    return this.termIds.subarray(this.termOffsets[c], this.termOffsets[c + 1]);
  }

  /** Terminals compromised (scenario 2) on the last simulated day, ascending. */
  compromisedTerminals(): number[] {
    const day = this.nextDayIndex - 1;
    const out: number[] = [];
    for (let t = 0; t < this.nTerminals; t++) if (this.terminalUntil[t] > day) out.push(t);
    return out;
  }

  /** Customers compromised (scenario 3) on the last simulated day, ascending. */
  compromisedCustomers(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.nCustomers; c++) if (this.customerHits[c] > 0) out.push(c);
    return out;
  }

  /** Transactions of the next simulated day, sorted by ts, ids consecutive from 0 across days. */
  nextDay(): Transaction[] {
    const day = this.nextDayIndex++;
    this.drawCompromises(day);

    const rng = this.traffic.reseed(deriveSeed(this.seed, STREAM_TRAFFIC, day));
    const fraudRng = this.fraudRng; // continues the day's fraud stream after drawCompromises
    const {
      active,
      meanAmount,
      stdAmount,
      expNegTxPerDay,
      termOffsets,
      termIds,
      terminalUntil,
      customerHits,
    } = this;
    const threshold = HANDBOOK.amountThreshold;
    const pick = HANDBOOK.customerFraudFraction;
    const multiplier = HANDBOOK.customerFraudMultiplier;
    let n = 0;
    for (let i = 0; i < active.length; i++) {
      const c = active[i];
      const nbTx = rng.poissonKnuth(expNegTxPerDay[c]);
      if (nbTx === 0) continue;
      const mean = meanAmount[c];
      const sd = stdAmount[c];
      const off = termOffsets[c];
      const nTerm = termOffsets[c + 1] - off;
      const hits = customerHits[c];
      if (n + nbTx > this.cap) this.grow(n + nbTx);
      for (let k = 0; k < nbTx; k++) {
        const sec = Math.trunc(rng.normal(SECONDS_PER_DAY / 2, 20000));
        if (sec <= 0 || sec >= SECONDS_PER_DAY) continue;
        let amount = rng.normal(mean, sd);
        if (amount < 0) amount = rng.range(0, mean * 2);
        amount = Math.round(amount * 100) / 100;
        const terminal = termIds[off + rng.int(nTerm)];
        let scenario = 0;
        if (amount > threshold) scenario = 1;
        if (terminalUntil[terminal] > day) scenario = 2;
        if (hits > 0) {
          for (let h = 0; h < hits; h++) {
            if (fraudRng.uniform() < pick) {
              amount = Math.round(amount * multiplier * 100) / 100;
              scenario = 3;
            }
          }
        }
        this.bufSec[n] = sec;
        this.bufCust[n] = c;
        this.bufTerm[n] = terminal;
        this.bufAmount[n] = amount;
        this.bufScenario[n] = scenario;
        n++;
      }
    }

    // Stable counting sort by second of day: ties keep generation order (customer, then counter).
    const counts = this.secCounts;
    const order = this.bufOrder;
    const secs = this.bufSec;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[secs[i] + 1]++;
    for (let s = 1; s <= SECONDS_PER_DAY; s++) counts[s] += counts[s - 1];
    for (let i = 0; i < n; i++) order[counts[secs[i]]++] = i;

    const out: Transaction[] = new Array(n);
    const dayMs = this.startMs + day * SECONDS_PER_DAY * 1000;
    let id = this.nextId;
    for (let j = 0; j < n; j++) {
      const i = order[j];
      const scenario = this.bufScenario[i] as 0 | 1 | 2 | 3;
      out[j] = {
        id: id++,
        ts: dayMs + secs[i] * 1000,
        customerId: this.bufCust[i],
        terminalId: this.bufTerm[i],
        amount: this.bufAmount[i],
        fraud: scenario === 0 ? 0 : 1,
        scenario,
      };
    }
    this.nextId = id;
    return out;
  }

  /** Iterate from the start (independently of this instance's own position), forever. */
  *transactions(): Generator<Transaction> {
    const gen = new TransactionGenerator(this.opts);
    if (gen.active.length === 0) return; // nobody can transact: an empty stream, not an endless loop
    for (;;) yield* gen.nextDay();
  }

  /** The first `n` transactions from the start (regenerated; does not move this instance). */
  take(n: number): Transaction[] {
    return generateTransactions(n, this.opts);
  }

  /** Iterate from the start, skipping the first `n` transactions (by regenerating them). */
  *skip(n: number): Generator<Transaction> {
    const gen = new TransactionGenerator(this.opts);
    if (gen.active.length === 0) return;
    let left = n;
    for (;;) {
      const day = gen.nextDay();
      if (left >= day.length) {
        left -= day.length;
        continue;
      }
      for (let i = left; i < day.length; i++) yield day[i];
      left = 0;
    }
  }

  private drawCompromises(day: number): void {
    const rng = this.fraudRng.reseed(deriveSeed(this.seed, STREAM_FRAUD, day));
    // Scenario 2: terminals compromised for [day, day + 28).
    const until = day + HANDBOOK.terminalWindowDays;
    for (const t of this.drawDistinct(rng, this.terminalsPerDay, this.nTerminals)) {
      if (this.terminalUntil[t] < until) this.terminalUntil[t] = until;
    }
    // Scenario 3: customers compromised for [day, day + 14); retire those that started 14 days ago.
    const slot = day % HANDBOOK.customerWindowDays;
    for (const c of this.customerRing[slot]) this.customerHits[c]--;
    const fresh = this.drawDistinct(rng, this.customersPerDay, this.nCustomers);
    for (const c of fresh) this.customerHits[c]++;
    this.customerRing[slot] = fresh;
  }

  /** `expected` distinct ids out of [0, n): floor(expected), plus one with the fractional probability. */
  private drawDistinct(rng: Rng, expected: number, n: number): number[] {
    let k = Math.floor(expected);
    if (rng.uniform() < expected - k) k++;
    if (k >= n) return Array.from({ length: n }, (_, i) => i);
    const picked = new Set<number>();
    while (picked.size < k) picked.add(rng.int(n));
    return [...picked];
  }

  private grow(min: number): void {
    let cap = Math.max(1024, this.cap * 2);
    while (cap < min) cap *= 2;
    const sec = new Int32Array(cap);
    sec.set(this.bufSec);
    const cust = new Int32Array(cap);
    cust.set(this.bufCust);
    const term = new Int32Array(cap);
    term.set(this.bufTerm);
    const amount = new Float64Array(cap);
    amount.set(this.bufAmount);
    const scenario = new Uint8Array(cap);
    scenario.set(this.bufScenario);
    this.bufSec = sec;
    this.bufCust = cust;
    this.bufTerm = term;
    this.bufAmount = amount;
    this.bufScenario = scenario;
    this.bufOrder = new Int32Array(cap);
    this.cap = cap;
  }
}

/** The first `n` transactions of the simulation with these options (whole days are generated). */
export function generateTransactions(n: number, opts: GeneratorOptions = {}): Transaction[] {
  checkCount('n', n);
  const gen = new TransactionGenerator(opts);
  const out: Transaction[] = [];
  if (gen.activeCustomers === 0) return out;
  while (out.length < n) {
    const day = gen.nextDay();
    const need = n - out.length;
    if (day.length <= need) for (const tx of day) out.push(tx);
    else for (let i = 0; i < need; i++) out.push(day[i]);
  }
  return out;
}
