import { SluiceError } from './errors.js';
import type { Sink, Source } from './interfaces.js';
import { PipelineRun, type RunOptions } from './runtime.js';
import type { Step } from './steps.js';

/** A complete pipeline: call `run()` to start it. */
export class RunnablePipeline<T> {
  /** @internal */
  constructor(
    readonly name: string,
    readonly source: Source<unknown>,
    readonly steps: readonly Step[],
    readonly sink: Sink<T>,
    readonly featureNames: readonly string[],
  ) {}

  /** Starts the pipeline; await `.done` for the summary, call `.stop()` to end it early. */
  run(opts: RunOptions = {}): PipelineRun {
    return new PipelineRun(this.name, this.source, this.steps, this.sink as Sink<unknown>, opts);
  }
}

/**
 * Refuses, when the pipeline is built (`.to()`; a scaled-out worker's second half starts after
 * the repartition, keyed already, so the constructor does not check), a stage that works per key with no `.keyBy()` before
 * it (the types rule it out; steps put together by hand do not): otherwise every record would
 * become a dead letter at run time.
 */
export function checkKeyedStages(steps: readonly Step[]): void {
  let keyed = false;
  for (const s of steps) {
    if (s.kind !== 'sync') continue;
    if (s.setsKey) keyed = true;
    else if (s.needsKey && !keyed)
      throw new SluiceError(
        'SLUICE_PIPELINE_INVALID',
        `stage "${s.name}" works per key but no .keyBy() comes before it: key the stream first`,
      );
  }
}
