import { EncodeError, requireOption, SluiceError, type Encoder } from '../stream/index.js';
import { ActionError } from './errors.js';
import type { ActionEntry } from './sink.js';

/**
 * The record values of a topic sink: `value(entry)`, an encoder's bytes for the payload
 * (Avro/Protobuf/JSON Schema through a registry), or by default the payload as JSON. A payload
 * the encoder refuses is returned as the reason string, for the sink to reject (dead letter).
 */
export function recordValues(
  label: string,
  value: ((entry: ActionEntry) => Buffer) | undefined,
  encoder: Encoder | undefined,
): { open(topic: string): Promise<void>; valueOf(entry: ActionEntry): Buffer | string } {
  requireOption(!(value && encoder), `${label}: give value or encode, not both`);
  if (encoder === undefined) {
    const valueOf = value ?? ((e: ActionEntry) => Buffer.from(JSON.stringify(e.payload ?? null)));
    return { open: async () => {}, valueOf };
  }
  return {
    async open(topic) {
      try {
        await encoder.open?.(topic);
      } catch (err) {
        if (err instanceof SluiceError) throw err; // says what to fix (a refused schema, bad settings)
        throw new ActionError(
          'SLUICE_ACTION_UNAVAILABLE',
          `${label}: the ${encoder.name} encoder could not get ready: ${(err as Error).message}`,
          true,
          { cause: err },
        );
      }
    },
    valueOf(e) {
      try {
        return encoder.encode(e.payload);
      } catch (err) {
        if (err instanceof EncodeError) return `${encoder.name}: ${err.message}`;
        throw err;
      }
    },
  };
}
