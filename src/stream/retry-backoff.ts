// The wait between tries while something a stage needs is unavailable (a model, a schema
// registry): the batch is held, the source pauses, and the stage tries again after a growing,
// jittered delay until it succeeds or the run is asked to stop.

/**
 * Exponential backoff with jitter for hold-and-retry loops: each `wait` sleeps half to all of
 * the current delay (jitter, so stages and decoders do not retry in step), then doubles it up to
 * `maxDelayMs`. A stop ends the wait at once.
 *
 * @example
 * const backoff = new RetryBackoff(100, 5_000);
 * while (!(await tryAgain())) if (!(await backoff.wait(ctx.stopping))) return false; // stopped
 */
export class RetryBackoff {
  private delay: number;

  constructor(
    initialDelayMs: number,
    private readonly maxDelayMs: number,
  ) {
    this.delay = initialDelayMs;
  }

  /** Sleeps the next delay; false when `stop` fired, whether before or during the sleep. */
  async wait(stop: AbortSignal | undefined): Promise<boolean> {
    await sleep(this.delay * (0.5 + Math.random() / 2), stop);
    if (stop?.aborted === true) return false;
    this.delay = Math.min(this.maxDelayMs, this.delay * 2);
    return true;
  }
}

function sleep(ms: number, stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener('abort', done, { once: true });
  });
}
