// `sluice dlq replay` as a function: dead letters back into the topics they came from, each
// at most once, however often the replay is run or killed.
//
// Progress lives in the offset store (group sluice-dlq-replay). Appending and committing cannot
// be one atomic step, so a replay first commits its intent: the end of every partition it is
// about to append to. A replay that finds an intent (the previous one was killed before its
// final commit) reads those partitions from there and skips the dead letters whose signed
// `sluice.dlq.replayed-from` header says they are already in. The final commit clears the
// intent. Each replayed record also keeps its original record id, so even a record appended
// twice by other means has one idempotency key: no second effect downstream.
import type { Log, ProducerRecord } from '../log/index.js';
import { DLQ_REPLAY_GROUP, readDeadLetters, type StoredDeadLetter } from './dead-letters.js';
import { deadLetterForgery, deadLetterKey, replayHeaders, signedReplay } from './dlq-auth.js';

export interface ReplayOptions {
  /** First dead-letter offset to replay; default where the previous replay stopped. */
  from?: number;
  /** Replay up to (excluding) this offset; default the end. */
  to?: number;
  /** Only these stages (e.g. ["decode"]); default all that came from a source. */
  stages?: string[];
  /** Show what would happen, append nothing, remember nothing. */
  dryRun?: boolean;
  /**
   * Called after each durable step ("intent", "appended" once per partition, "committed"):
   * progress reporting, and where the crash tests kill the process.
   */
  onStep?: (step: 'intent' | 'appended' | 'committed', detail: string) => void;
}

export interface ReplayReport {
  replayed: number;
  /** Per source topic. */
  topics: Record<string, number>;
  skipped: { offset: number; why: string }[];
  /** The dead-letter offset the next replay starts from. */
  next: number;
}

/** The intent a replay commits before it appends: "topic/partition" -> end before appending. */
type Pending = Record<string, number>;

function pendingOf(log: Log, topic: string): Pending {
  const m = log.offsets.committedEntry(DLQ_REPLAY_GROUP, topic, 0)?.metadata;
  if (m === undefined) return {};
  try {
    return (JSON.parse(m) as { pending?: Pending }).pending ?? {};
  } catch {
    return {};
  }
}

/** Dead-letter offsets of `topic` that an interrupted replay already appended (read from its intent). */
function alreadyAppended(log: Log, topic: string, pending: Pending): Set<number> {
  const done = new Set<number>();
  const key = () => deadLetterKey(log.dir);
  const prefix = `${topic}@`;
  for (const [tp, start] of Object.entries(pending)) {
    const cut = tp.lastIndexOf('/');
    const [t, p] = [tp.slice(0, cut), Number(tp.slice(cut + 1))];
    if (!log.hasTopic(t) || p >= log.partitionCount(t)) continue;
    const part = log.partition(t, p);
    let offset = Math.max(start, part.logStartOffset);
    while (offset < part.highWatermark) {
      const { records, nextOffset } = part.read(offset);
      for (const r of records) {
        if (r.headers.length === 0) continue;
        const replay = signedReplay(key, r.value, r.headers);
        if (replay?.replayedFrom.startsWith(prefix))
          done.add(Number(replay.replayedFrom.slice(prefix.length)));
      }
      if (nextOffset <= offset) break;
      offset = nextOffset;
    }
  }
  return done;
}

/** Why a dead letter cannot be replayed, or its target partition and original record id. */
function target(log: Log, d: StoredDeadLetter, key: Buffer, opts: ReplayOptions) {
  const m = /^(.+)\/(-?\d+)@(-?\d+)$/.exec(d.source);
  const forged = deadLetterForgery(key, d.value, d.headers);
  if (forged) return { why: `refused: ${forged}` };
  if (d.stage.startsWith('action:')) return { why: `stage ${d.stage} holds an action, not source bytes` };
  if (opts.stages && !opts.stages.includes(d.stage)) return { why: `stage ${d.stage} not selected` };
  if (!m) return { why: `no usable source header ("${d.source}")` };
  if (!log.hasTopic(m[1]!))
    return { why: `source topic "${m[1]}" is not in this log (replay it into its own system)` };
  const partition = Math.max(0, Math.min(Number(m[2]), log.partitionCount(m[1]!) - 1));
  // The id the record had when it was read first (see recordId): its idempotency keys follow.
  return { topic: m[1]!, partition, id: `${m[1]}-${m[2]}@${m[3]}` };
}

/**
 * Appends the original bytes of dead letters back to the topic they came from (their
 * `sluice.dlq.source` header), for the pipeline to read again after a fix, and remembers how
 * far it went (consumer group sluice-dlq-replay), so running it again replays only newer ones.
 * Each dead letter is appended at most once, also when a replay is killed at any point and
 * run again. Only dead letters that Sluice signed are replayed (others are skipped with the
 * reason), and each replayed record keeps its original record id. Dead letters of action
 * stages hold an action, not source bytes, and are skipped.
 *
 * @example
 * const report = replayDeadLetters(log, 'fraud.dlq', { stages: ['decode'] });
 * console.log(`${report.replayed} records back in ${Object.keys(report.topics)}`);
 */
export function replayDeadLetters(log: Log, topic: string, opts: ReplayOptions = {}): ReplayReport {
  const key = deadLetterKey(log.dir);
  const from = opts.from ?? log.offsets.committed(DLQ_REPLAY_GROUP, topic, 0) ?? 0;
  const end = Math.min(opts.to ?? Infinity, log.hasTopic(topic) ? log.partition(topic, 0).highWatermark : 0);
  const letters = readDeadLetters(log, topic, { from, limit: Math.max(0, end - from) }).filter(
    (d) => d.offset < end,
  );
  const pending = pendingOf(log, topic);
  const done = alreadyAppended(log, topic, pending);
  const report: ReplayReport = {
    replayed: 0,
    topics: {},
    skipped: [],
    next: Math.max(from, end === Infinity ? from : end),
  };
  const batches = new Map<string, { topic: string; partition: number; records: ProducerRecord[] }>();
  for (const d of letters) {
    const t = target(log, d, key, opts);
    if (t.why !== undefined) {
      report.skipped.push({ offset: d.offset, why: t.why });
      continue;
    }
    if (done.has(d.offset)) {
      report.skipped.push({ offset: d.offset, why: 'already replayed (by a replay that was interrupted)' });
      continue;
    }
    const k = `${t.topic}/${t.partition}`;
    const b = batches.get(k) ?? { topic: t.topic, partition: t.partition, records: [] };
    b.records.push({ value: d.value, headers: replayHeaders(key, t.id, `${topic}@${d.offset}`, d.value) });
    batches.set(k, b);
    report.topics[t.topic] = (report.topics[t.topic] ?? 0) + 1;
    report.replayed++;
  }
  if (opts.dryRun) return report;
  if (batches.size > 0) {
    // The intent: where each partition ended before this replay (kept from an earlier
    // interrupted one where that is further back, so its appends are still found).
    const intent: Pending = { ...pending };
    for (const [k, b] of batches)
      intent[k] = Math.min(intent[k] ?? Infinity, log.partition(b.topic, b.partition).highWatermark);
    log.offsets.commit(DLQ_REPLAY_GROUP, topic, 0, from, JSON.stringify({ pending: intent }));
    opts.onStep?.('intent', JSON.stringify(intent));
    for (const [k, b] of batches) {
      const part = log.partition(b.topic, b.partition);
      part.append(b.records);
      part.flush();
      opts.onStep?.('appended', k);
    }
  }
  log.offsets.commit(DLQ_REPLAY_GROUP, topic, 0, report.next);
  opts.onStep?.('committed', String(report.next));
  return report;
}
