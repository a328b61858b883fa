import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HANDBOOK,
  TX_CSV_HEADER,
  TransactionGenerator,
  generateTransactions,
  toCsvRow,
  type Transaction,
} from '../../src/apps/fraud/generator.js';
import { Rng, deriveSeed } from '../../src/apps/fraud/random.js';

const DAYS = 60;

interface Simulation {
  days: Transaction[][];
  /** compromisedTerminals()/compromisedCustomers() after each day. */
  terminals: Set<number>[];
  customers: Set<number>[];
}

function simulate(opts: ConstructorParameters<typeof TransactionGenerator>[0], days: number): Simulation {
  const gen = new TransactionGenerator(opts);
  const sim: Simulation = { days: [], terminals: [], customers: [] };
  for (let d = 0; d < days; d++) {
    sim.days.push(gen.nextDay());
    sim.terminals.push(new Set(gen.compromisedTerminals()));
    sim.customers.push(new Set(gen.compromisedCustomers()));
  }
  return sim;
}

function scenarioCounts(txs: Iterable<Transaction>): { n: number; byScenario: number[]; fraud: number } {
  const byScenario = [0, 0, 0, 0];
  let n = 0;
  let fraud = 0;
  for (const tx of txs) {
    n++;
    byScenario[tx.scenario]++;
    fraud += tx.fraud;
  }
  return { n, byScenario, fraud };
}

// The handbook's population (5000 customers, 10000 terminals), 60 days: ~580k tx, shared by the tests.
const big = simulate({ seed: 1 }, DAYS);
const bigAll = big.days.flat();

describe('random', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const xa = Array.from({ length: 100 }, () => a.nextUint32());
    const xb = Array.from({ length: 100 }, () => b.nextUint32());
    const xc = Array.from({ length: 100 }, () => c.nextUint32());
    assert.deepEqual(xa, xb);
    assert.notDeepEqual(xa, xc);
    assert.deepEqual(
      Array.from({ length: 10 }, () => a.reseed(5).uniform()),
      Array.from({ length: 10 }, () => new Rng(5).uniform()),
    );
    assert.notEqual(deriveSeed(1, 1, 2), deriveSeed(1, 2, 1));
    assert.equal(deriveSeed(9, 3, 4), deriveSeed(9, 3, 4));
  });

  it('draws uniform, integer, normal and Poisson values with the right moments', () => {
    const rng = new Rng(7);
    const N = 200_000;
    let sum = 0;
    let sum2 = 0;
    for (let i = 0; i < N; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1);
      sum += u;
    }
    assert.ok(Math.abs(sum / N - 0.5) < 0.005);

    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `int(6) bucket ${c}`);

    sum = 0;
    for (let i = 0; i < N; i++) {
      const x = rng.normal(10, 3);
      sum += x;
      sum2 += x * x;
    }
    const mean = sum / N;
    assert.ok(Math.abs(mean - 10) < 0.05, `normal mean ${mean}`);
    assert.ok(Math.abs(Math.sqrt(sum2 / N - mean * mean) - 3) < 0.05);

    for (const lambda of [0.3, 2, 12, 75]) {
      sum = 0;
      sum2 = 0;
      for (let i = 0; i < N; i++) {
        const k = rng.poisson(lambda);
        assert.ok(Number.isInteger(k) && k >= 0);
        sum += k;
        sum2 += k * k;
      }
      const m = sum / N;
      const v = sum2 / N - m * m;
      assert.ok(Math.abs(m - lambda) < 0.02 * lambda + 0.01, `poisson(${lambda}) mean ${m}`);
      assert.ok(Math.abs(v - lambda) < 0.05 * lambda + 0.02, `poisson(${lambda}) variance ${v}`);
    }
    assert.equal(rng.poisson(0), 0);
  });
});

describe('TransactionGenerator', () => {
  it('is deterministic: same seed gives identical first 50k tx, another seed differs', () => {
    const a = generateTransactions(50_000, { seed: 42 });
    const b = generateTransactions(50_000, { seed: 42 });
    const c = generateTransactions(50_000, { seed: 43 });
    assert.equal(a.length, 50_000);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.slice(0, 100), c.slice(0, 100));
  });

  it('transactions(), take() and skip() replay the same stream from the start', () => {
    const opts = { seed: 3, customers: 300, terminals: 600 };
    const gen = new TransactionGenerator(opts);
    gen.nextDay(); // moving the instance does not move its iterators
    const expected = generateTransactions(2000, opts);
    const iterated: Transaction[] = [];
    for (const tx of gen.transactions()) {
      iterated.push(tx);
      if (iterated.length === 2000) break;
    }
    assert.deepEqual(iterated, expected);
    assert.deepEqual(gen.take(2000), expected);
    const skipped: Transaction[] = [];
    for (const tx of gen.skip(1234)) {
      skipped.push(tx);
      if (skipped.length === 2000 - 1234) break;
    }
    assert.deepEqual(skipped, expected.slice(1234));
    assert.equal(gen.day, 1);
  });

  it('assigns consecutive ids in time order, ts non-decreasing, ties by customer', () => {
    assert.equal(bigAll[0].id, 0);
    const start = Date.UTC(2018, 3, 1);
    for (let i = 0; i < bigAll.length; i++) {
      const tx = bigAll[i];
      assert.equal(tx.id, i);
      assert.equal(tx.ts % 1000, 0);
      if (i > 0) {
        const prev = bigAll[i - 1];
        assert.ok(tx.ts >= prev.ts, `ts decreases at ${i}`);
        if (tx.ts === prev.ts) assert.ok(tx.customerId >= prev.customerId, `tie order at ${i}`);
      }
    }
    big.days.forEach((day, d) => {
      for (const tx of day) {
        const sec = (tx.ts - start) / 1000 - d * 86400;
        assert.ok(sec > 0 && sec < 86400, `tx ${tx.id} outside its day`);
      }
    });
  });

  it('produces about customers × 2 × P(0 < N(43200, 20000) < 86400) tx per day', () => {
    const perDay = bigAll.length / DAYS;
    const target = HANDBOOK.customers * 2;
    assert.ok(Math.abs(perDay - target) / target < 0.15, `mean tx/day ${perDay}`);
    for (const day of big.days)
      assert.ok(Math.abs(day.length - target) / target < 0.15, `day of ${day.length} tx`);
  });

  it('has a plausible fraud rate with every scenario present', () => {
    const { n, byScenario, fraud } = scenarioCounts(bigAll);
    const rate = fraud / n;
    assert.ok(rate > 0.003 && rate < 0.02, `fraud rate ${rate}`);
    for (const s of [1, 2, 3]) assert.ok(byScenario[s] > 100, `scenario ${s}: ${byScenario[s]} tx`);
    assert.equal(byScenario[0], n - fraud);
    for (const tx of bigAll) assert.equal(tx.fraud, tx.scenario === 0 ? 0 : 1);
  });

  it('scenario 1: every amount above 220 is fraud; scenario 1 labels only such amounts', () => {
    let above = 0;
    for (const tx of bigAll) {
      assert.ok(tx.amount >= 0 && Math.round(tx.amount * 100) / 100 === tx.amount);
      if (tx.amount > 220) {
        above++;
        assert.equal(tx.fraud, 1, `tx ${tx.id} amount ${tx.amount}`);
      }
      if (tx.scenario === 1) assert.ok(tx.amount > 220);
    }
    assert.ok(above > 0);
  });

  it('scenario 2: all tx of a compromised terminal are fraud during its 28 days', () => {
    const firstDay = new Map<number, number>();
    big.terminals.forEach((set, d) => {
      for (const t of set) if (!firstDay.has(t)) firstDay.set(t, d);
    });
    assert.ok(firstDay.size >= 2 * (DAYS - 1), `${firstDay.size} compromised terminals`);
    for (const [t, d0] of firstDay) {
      for (let d = d0; d < Math.min(DAYS, d0 + 28); d++)
        assert.ok(big.terminals[d].has(t), `terminal ${t} day ${d}`);
    }
    let checked = 0;
    big.days.forEach((day, d) => {
      for (const tx of day) {
        if (big.terminals[d].has(tx.terminalId)) {
          checked++;
          assert.equal(tx.fraud, 1);
          assert.ok(tx.scenario >= 2);
        } else if (tx.scenario === 2) {
          assert.fail(`scenario-2 tx ${tx.id} at terminal ${tx.terminalId} not compromised on day ${d}`);
        }
      }
    });
    assert.ok(checked > 1000);
  });

  it('scenario 3: about a third of a compromised customer’s tx, amount × 5, for 14 days', () => {
    let inWindow = 0;
    let hit = 0;
    const firstDay = new Map<number, number>();
    big.days.forEach((day, d) => {
      for (const c of big.customers[d]) if (!firstDay.has(c)) firstDay.set(c, d);
      for (const tx of day) {
        if (big.customers[d].has(tx.customerId)) {
          inWindow++;
          if (tx.scenario === 3) hit++;
        } else {
          assert.notEqual(tx.scenario, 3);
        }
      }
    });
    for (const [c, d0] of firstDay) {
      for (let d = d0; d < Math.min(DAYS, d0 + 14); d++) assert.ok(big.customers[d].has(c));
    }
    const share = hit / inWindow;
    assert.ok(share > 0.28 && share < 0.4, `scenario-3 share ${share} of ${inWindow}`);
    // The same customer and seed without customer compromises: the ×5 amounts are the only change.
    const clean = simulate({ seed: 1, compromisedCustomersPerDay: 0 }, 20);
    for (let d = 0; d < 20; d++) {
      assert.equal(clean.days[d].length, big.days[d].length);
      clean.days[d].forEach((tx, i) => {
        const orig = big.days[d][i];
        assert.equal(orig.terminalId, tx.terminalId);
        if (orig.scenario === 3) {
          // × 5 per overlapping compromise that picked it (almost always one).
          const ratio = orig.amount / tx.amount;
          assert.ok(
            tx.amount < 0.5 || Math.abs(ratio - 5) < 0.01 || Math.abs(ratio - 25) < 0.05,
            `ratio ${ratio}`,
          );
        } else assert.equal(orig.amount, tx.amount);
      });
    }
  });

  it('keeps a similar fraud rate in a smaller population (counts scale with size)', () => {
    const small = simulate({ seed: 1, customers: 1000, terminals: 2000 }, DAYS);
    const s = scenarioCounts(small.days.flat());
    const b = scenarioCounts(bigAll);
    const smallRate = s.fraud / s.n;
    const bigRate = b.fraud / b.n;
    assert.ok(smallRate > 0.003 && smallRate < 0.02, `small fraud rate ${smallRate}`);
    assert.ok(smallRate / bigRate > 0.5 && smallRate / bigRate < 2, `small ${smallRate} vs big ${bigRate}`);
    const perDay = s.n / DAYS;
    assert.ok(Math.abs(perDay - 2000) / 2000 < 0.15, `small tx/day ${perDay}`);
  });

  it('finds the same terminals in range as a brute-force scan', () => {
    for (const radius of [5, 13, 0.5]) {
      const gen = new TransactionGenerator({ seed: 5, customers: 200, terminals: 3000, radius });
      for (let c = 0; c < 200; c++) {
        const brute: number[] = [];
        for (let t = 0; t < 3000; t++) {
          const dx = gen.customerX[c] - gen.terminalX[t];
          const dy = gen.customerY[c] - gen.terminalY[t];
          if (Math.sqrt(dx * dx + dy * dy) < radius) brute.push(t);
        }
        assert.deepEqual([...gen.terminalsOf(c)], brute);
      }
    }
  });

  it('writes the handbook CSV layout and honours startDate', () => {
    const [tx] = generateTransactions(1, { seed: 2, customers: 50, terminals: 100, startDate: '2020-02-29' });
    const row = toCsvRow(tx);
    assert.equal(TX_CSV_HEADER.split(',').length, 6);
    assert.match(row, /^0,2020-02-29 \d{2}:\d{2}:\d{2},\d+,\d+,\d+\.\d{2},[01]$/);
    assert.equal(
      toCsvRow({
        id: 7,
        ts: Date.UTC(2018, 3, 1, 0, 2, 5),
        customerId: 3,
        terminalId: 9,
        amount: 5,
        fraud: 1,
        scenario: 1,
      }),
      '7,2018-04-01 00:02:05,3,9,5.00,1',
    );
  });

  it('rejects bad options and handles a population that cannot transact', () => {
    assert.throws(() => new TransactionGenerator({ customers: -1 }), RangeError);
    assert.throws(() => new TransactionGenerator({ terminals: 1.5 }), RangeError);
    assert.throws(() => new TransactionGenerator({ startDate: '2018-02-30' }), RangeError);
    assert.throws(() => new TransactionGenerator({ seed: Number.NaN }), RangeError);
    assert.throws(() => new TransactionGenerator({ compromisedTerminalsPerDay: -2 }), RangeError);
    assert.deepEqual(generateTransactions(10, { customers: 10, terminals: 0 }), []);
    assert.deepEqual(generateTransactions(10, { customers: 10, terminals: 10, radius: 0 }), []);
    assert.deepEqual(new TransactionGenerator({ customers: 0 }).nextDay(), []);
    assert.deepEqual([...new TransactionGenerator({ customers: 0 }).transactions()], []);
  });
});
