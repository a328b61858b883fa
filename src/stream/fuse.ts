// Operator fusion for the runtime: `eventTime` and `keyBy` right before a window run inside the
// window's own loop, one pass over the batch instead of three.

import type { FusedInputs, SyncStep } from './steps.js';

const noop = (): void => {};

/**
 * The stages of one run with `eventTime` → `keyBy` → window (or either one alone before the
 * window) fused: the window gets their functions (`fuseInputs`) and the fused stages become
 * no-ops that keep their names, so they still appear in the stage metrics (with ~0 time: their
 * work is counted in the window's). `keyBy` → `eventTime` → window fuses `eventTime` only, so
 * that each record still meets the functions in the order the pipeline declares them (a record
 * both would reject goes to the dead letters from the first). The steps given are not changed:
 * a stream may be run again, or run elsewhere (scale-out repartitions at `keyBy`).
 */
export function fuseExtractors<S extends { kind: string }>(steps: readonly S[]): S[] {
  const out = [...steps];
  for (let i = 0; i < out.length; i++) {
    const step = out[i] as unknown as SyncStep;
    if (step.kind !== 'sync' || step.fuseInputs === undefined) continue;
    const inputs: FusedInputs = {};
    let first = i;
    const before = syncAt(out, i - 1);
    if (before?.keyOf !== undefined) {
      inputs.key = { fn: before.keyOf, stage: before.name };
      first = i - 1;
      const earlier = syncAt(out, i - 2);
      if (earlier?.eventTimeOf !== undefined) {
        inputs.eventTime = { fn: earlier.eventTimeOf, stage: earlier.name };
        first = i - 2;
      }
    } else if (before?.eventTimeOf !== undefined) {
      inputs.eventTime = { fn: before.eventTimeOf, stage: before.name };
      first = i - 1;
    }
    step.fuseInputs(first < i ? inputs : undefined);
    for (let j = first; j < i; j++) out[j] = { ...out[j]!, process: noop };
  }
  return out;
}

function syncAt(steps: readonly { kind: string }[], i: number): SyncStep | undefined {
  const s = steps[i] as SyncStep | undefined;
  return s?.kind === 'sync' ? s : undefined;
}
