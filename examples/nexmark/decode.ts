/**
 * Decodes Nexmark events written as JSON lines (one event per log record, `kind` saying which):
 * the common checks (UTF-8, JSON, size) are `json()`'s, then the fields of the event's kind are
 * checked; a bad record goes to the dead letters with the field it lacks.
 *
 * @example
 * pipeline('q1').from(logSource({ log, topic: 'nexmark' })).decode(nexmarkJson())
 */
import { DecodeError, json, type Decoder } from '../../src/index.js';
import type { NexmarkEvent } from './generator.js';

const FIELDS: Record<NexmarkEvent['kind'], Record<string, 'number' | 'string'>> = {
  person: {
    id: 'number',
    name: 'string',
    emailAddress: 'string',
    creditCard: 'string',
    city: 'string',
    state: 'string',
  },
  auction: {
    id: 'number',
    itemName: 'string',
    description: 'string',
    initialBid: 'number',
    reserve: 'number',
    expires: 'number',
    seller: 'number',
    category: 'number',
  },
  bid: { auction: 'number', bidder: 'number', price: 'number', channel: 'string', url: 'string' },
};
const KINDS = Object.keys(FIELDS);

export function nexmarkJson(): Decoder<NexmarkEvent> {
  const base = json({ kind: 'string', dateTime: 'integer' });
  return {
    name: 'nexmark-json',
    decode(raw: unknown): NexmarkEvent {
      const e = base.decode(raw) as Record<string, unknown>;
      const fields = FIELDS[e.kind as NexmarkEvent['kind']];
      if (fields === undefined)
        throw new DecodeError(`field "kind" is "${String(e.kind)}"; expected one of ${KINDS.join(', ')}`);
      for (const name in fields)
        if (typeof e[name] !== fields[name])
          throw new DecodeError(
            `${String(e.kind)}: field "${name}" must be a ${fields[name]}, got ${typeof e[name]}`,
          );
      return e as unknown as NexmarkEvent;
    },
  };
}
