/**
 * Wall-clock time in milliseconds with sub-millisecond resolution.
 * Why not Date.now(): stage latencies are often below 1 ms; performance.now() is monotonic and
 * fine-grained, and adding timeOrigin keeps it comparable with log append times (epoch ms).
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
