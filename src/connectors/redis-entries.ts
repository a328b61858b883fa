import type { Redis } from 'ioredis';

/** A stream entry as read: its id and its fields (binary-safe). */
export interface StreamEntry {
  id: string;
  fields: Map<string, Buffer> | null;
}

type RawEntry = [Buffer, Buffer[] | null];

function toEntries(raw: RawEntry[] | null | undefined): StreamEntry[] {
  return (raw ?? []).map(([id, kv]) => {
    if (kv === null) return { id: id.toString(), fields: null }; // deleted or trimmed meanwhile
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < kv.length; i += 2) fields.set(kv[i]!.toString(), kv[i + 1]!);
    return { id: id.toString(), fields };
  });
}

/** XREADGROUP of one stream; `id` '>' for new entries, or an id to page through the consumer's pending ones. */
export async function readGroup(
  r: Redis,
  stream: string,
  group: string,
  consumer: string,
  id: string,
  count: number,
  blockMs?: number,
): Promise<StreamEntry[]> {
  const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
  if (blockMs !== undefined) args.push('BLOCK', blockMs);
  args.push('STREAMS', stream, id);
  const res = (await r.callBuffer('XREADGROUP', ...args)) as [Buffer, RawEntry[]][] | null;
  return toEntries(res?.[0]?.[1]);
}

/** XAUTOCLAIM: entries idle over `minIdleMs` in other consumers' pending lists move to `consumer`. */
export async function autoClaim(
  r: Redis,
  stream: string,
  group: string,
  consumer: string,
  minIdleMs: number,
  cursor: string,
  count: number,
): Promise<{ cursor: string; entries: StreamEntry[] }> {
  const res = (await r.callBuffer(
    'XAUTOCLAIM',
    stream,
    group,
    consumer,
    minIdleMs,
    cursor,
    'COUNT',
    count,
  )) as [Buffer, RawEntry[]];
  return { cursor: res[0].toString(), entries: toEntries(res[1]).filter((e) => e.fields !== null) };
}

/** Our group's lag (entries not yet delivered to it), from XINFO GROUPS; Redis 7+, else 0. */
export async function groupLag(r: Redis, stream: string, group: string): Promise<number> {
  const groups = (await r.xinfo('GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
    if (info.get('name') === group) return Number(info.get('lag') ?? 0) || 0;
  }
  return 0;
}

/**
 * An entry id "ms-seq" as one number that sorts like the id: ms·4096 + seq (seq saturates at
 * 4095, so more than 4096 entries in one millisecond share a number, still in order).
 */
export function idOffset(id: string): number {
  const dash = id.indexOf('-');
  return Number(id.slice(0, dash)) * 4096 + Math.min(4095, Number(id.slice(dash + 1)));
}
