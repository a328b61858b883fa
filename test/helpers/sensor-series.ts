/** What to inject into `sensorSeries`, by row. */
export interface SensorAnomalies {
  /** +30 from this row on (a level shift). */
  shiftAt?: number;
  /** +60 on every 4th row of the 40 rows from this one (a burst of spikes). */
  spikesAt?: number;
  /** +60 on the rows where row % period === offset (recurring single spikes). */
  spikeEvery?: [period: number, offset: number];
}

/**
 * The anomaly tests' synthetic sensor: a daily sine (288 rows a day, 5-minute rows) of 50 ± 20
 * with seeded noise in ±1, 3 decimals, plus the injected anomalies. Same seed, same series.
 *
 * @example
 * const values = sensorSeries(2000, 7, { shiftAt: 1500 });
 */
export function sensorSeries(n: number, seed: number, anomalies: SensorAnomalies = {}): number[] {
  const { shiftAt = Infinity, spikesAt = Infinity, spikeEvery } = anomalies;
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  return Array.from({ length: n }, (_, i) => {
    let v = 50 + 20 * Math.sin((2 * Math.PI * i) / 288) + 2 * rnd();
    if (i >= shiftAt) v += 30;
    if (i >= spikesAt && i < spikesAt + 40 && i % 4 === 0) v += 60;
    if (spikeEvery && i % spikeEvery[0] === spikeEvery[1]) v += 60;
    return Number(v.toFixed(3));
  });
}
