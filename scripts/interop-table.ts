// Turns the interop tests' results (JSON lines, see test/broker/interop-results.ts) into the
// markdown matrix of docs/broker.md: one row per client, one column per feature, the newest
// result of each cell, and numbered notes for every cell that is not a plain pass.
//
// usage: npx tsx scripts/interop-table.ts [RESULTS.jsonl] [--write docs/broker.md]
//   RESULTS defaults to $SLUICE_INTEROP_RESULTS, else sluice-interop-results.jsonl in the temp
//   dir. Prints the table; with --write, replaces the text between the markers
//   <!-- interop-matrix:start --> and <!-- interop-matrix:end --> in that file.

import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';

interface Cell {
  client: string;
  feature: string;
  status: 'pass' | 'fail' | 'n.a.';
  detail: string;
  test: string;
  at: string;
}

const CLIENTS = [
  'kcat',
  'confluent-kafka',
  'kafka-python',
  'KafkaJS',
  '@platformatic/kafka',
  'sarama',
  'kafka-go',
];
const FEATURES: [string, string][] = [
  ['produce', 'keyed + headers'],
  ['consume', 'reads another client'],
  ['gzip', 'gzip'],
  ['snappy', 'snappy'],
  ['lz4', 'lz4'],
  ['zstd', 'zstd'],
  ['group', 'group join/leave'],
  ['admin', 'admin'],
  ['idempotent-kill', 'idempotent across kill -9'],
  ['tls-scram', 'TLS + SCRAM'],
  ['transactions', 'transactions'],
  ['transactions-kill', 'transactions across kill -9'],
];
// Details of passing cells worth a note (anything else that passed needs none).
const NOTABLE = /session expired|not sent|instead/;
const START = '<!-- interop-matrix:start -->';
const END = '<!-- interop-matrix:end -->';

/** The newest result of each client × feature. */
export function latestCells(lines: string[]): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const line of lines) {
    if (line.trim() === '') continue;
    const c = JSON.parse(line) as Cell;
    const key = `${c.client}\u0000${c.feature}`;
    const old = cells.get(key);
    if (old === undefined || old.at <= c.at) cells.set(key, c);
  }
  return cells;
}

/** The markdown table with its notes. */
export function renderTable(cells: Map<string, Cell>): string {
  const notes: string[] = [];
  const noteOf = (text: string): number => {
    const i = notes.indexOf(text);
    if (i >= 0) return i + 1;
    notes.push(text);
    return notes.length;
  };
  const clients = [
    ...CLIENTS,
    ...[...new Set([...cells.values()].map((c) => c.client))].filter((c) => !CLIENTS.includes(c)),
  ];
  const rows = clients.map((client) => {
    const row = FEATURES.map(([feature]) => {
      const c = cells.get(`${client}\u0000${feature}`);
      if (c === undefined) return '–';
      const mark = c.status === 'pass' ? 'pass' : c.status === 'fail' ? '**FAIL**' : 'n.a.';
      const needsNote = c.status !== 'pass' || NOTABLE.test(c.detail);
      return needsNote ? `${mark} [${noteOf(c.detail.replace(/\s+/g, ' ').trim())}]` : mark;
    });
    return `| ${client} | ${row.join(' | ')} |`;
  });
  const tests = [...new Set([...cells.values()].map((c) => c.test))].sort();
  const newest =
    [...cells.values()]
      .map((c) => c.at)
      .sort()
      .at(-1) ?? 'never';
  return [
    `| client | ${FEATURES.map(([, title]) => title).join(' | ')} |`,
    `| --- | ${FEATURES.map(() => '---').join(' | ')} |`,
    ...rows,
    '',
    ...notes.map((n, i) => `${i + 1}. ${n}`),
    '',
    `"–": not run by these tests. Results of ${tests.map((t) => `\`${t}\``).join(', ')} (newest ${newest}).`,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const w = args.indexOf('--write');
  const target = w >= 0 ? args.splice(w, 2)[1] : undefined;
  const path =
    args[0] ?? process.env.SLUICE_INTEROP_RESULTS ?? join(tmpdir(), 'sluice-interop-results.jsonl');
  const table = renderTable(latestCells(readFileSync(path, 'utf8').split('\n')));
  if (target === undefined) {
    console.log(table);
    return;
  }
  const doc = readFileSync(target, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${target} has no ${START} … ${END} section to replace`);
  const updated = `${doc.slice(0, a + START.length)}\n${table}\n${doc.slice(b)}`;
  // Formatted as `npm run lint` checks it (prettier aligns the table's columns).
  const options = (await resolveConfig(target)) ?? {};
  writeFileSync(target, await format(updated, { ...options, filepath: target }));
  console.log(`wrote the interop matrix into ${target}`);
}

await main();
