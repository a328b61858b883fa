// The bad-input fuzzer's records: good ones of a small schema, and malformed ones of eight kinds,
// each with the reason the JSON decoder must give. Shared by the log-source and the
// MQTT/NATS/Redis source suites.

export const FUZZ_SCHEMA = { id: 'integer', amount: 'number', card: 'string' } as const;

/** A well-formed record. */
export function goodRecord(i: number): Buffer {
  return Buffer.from(JSON.stringify({ id: i, amount: i / 10, card: `c${i % 7}` }));
}

/** Bytes over the decoder's 1 MiB record limit, and the reason it gives. */
export const OVERSIZED_REASON = /exceeds the 1048576-byte limit/;

/** One malformed record of a kind chosen by `r`, and the reason the decoder must give. */
export function malformed(r: () => number, i: number): [Buffer, RegExp] {
  const good = JSON.stringify({ id: i, amount: 12.5, card: 'c1' });
  switch (Math.floor(r() * 8)) {
    case 0:
      return [
        Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))),
        /UTF-8|JSON|object|missing|expected/,
      ];
    case 1:
      return [Buffer.from(good.slice(0, Math.floor(r() * (good.length - 1)))), /JSON|object/];
    case 2:
      return [Buffer.from(good.replace('12.5', '"12.5"')), /field "amount": expected number/];
    case 3:
      return [Buffer.from(good.replace('12.5', 'NaN')), /malformed JSON/];
    case 4:
      return [Buffer.from(good.replace('12.5', '1e999')), /field "amount": expected number/]; // parses to Infinity
    case 5:
      return [Buffer.from(good.replace(/"card":"c1"/, '"x":1')), /field "card" is missing/];
    case 6:
      return [
        Buffer.concat([Buffer.from(good.slice(0, 5)), Buffer.from([0xff, 0xfe]), Buffer.from(good.slice(5))]),
        /UTF-8/,
      ];
    default:
      return [Buffer.from(`[${good}]`), /expected a JSON object, got array/];
  }
}
