// The Parquet writer checked with an independent reader (hyparquet): every value written is read
// back and compared, over row groups and pages of many sizes, nulls, NaN and infinities, unicode
// names and text, 0 rows, GZIP pages, and the footer's metadata.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { readParquet } from '../../src/core/parquet-reader.js';
import { diffFeatureFiles } from '../../src/train.js';
import { ParquetWriter, type ParquetColumn } from '../../src/core/parquet-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-parquet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fileOf = (path: string) => {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
};
const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
/** hyparquet's rows; Sluice's own reader (features diff) must read the same values. */
const read = async (path: string) => {
  const rows = (await parquetReadObjects({ file: fileOf(path), compressors })) as Record<string, unknown>[];
  const own = readParquet(path);
  assert.equal(own.rows.length, rows.length);
  own.rows.forEach((r, i) =>
    own.columns.forEach((c, j) => {
      const v = rows[i]![c.name];
      const want = typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : v;
      assert.ok(Object.is(r[j], want), `own reader: row ${i} ${c.name}: ${String(r[j])} vs ${String(want)}`);
    }),
  );
  return rows;
};

/** A deterministic pseudo-random sequence (no Math.random: a failure reproduces). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const COLUMNS: ParquetColumn[] = [
  { name: 'id', type: 'int64' },
  { name: 'event_time', type: 'timestamp-ms' },
  { name: 'amount', type: 'double' },
  { name: 'maybe', type: 'double', optional: true },
  { name: 'flag', type: 'boolean' },
  { name: 'note', type: 'string', optional: true },
  { name: 'größe €', type: 'int64', optional: true },
];

function makeRows(n: number, seed = 1): unknown[][] {
  const rnd = lcg(seed);
  const words = ['', 'a', 'naïve', '日本語', '🙂 emoji', 'x'.repeat(300)];
  return Array.from({ length: n }, (_, i) => [
    i - 5 - 2 ** 40 * Math.floor(rnd() * 3), // negative and above 2^32
    1_500_000_000_000 + i * 1000,
    (rnd() - 0.5) * 1e6,
    rnd() < 0.3 ? null : rnd(),
    rnd() < 0.5,
    rnd() < 0.2 ? undefined : words[i % words.length],
    rnd() < 0.1 ? null : Math.floor(rnd() * 2 ** 53) - 2 ** 52,
  ]);
}

function expectSame(got: Record<string, unknown>[], rows: unknown[][], columns = COLUMNS): void {
  assert.equal(got.length, rows.length);
  for (let r = 0; r < rows.length; r++) {
    columns.forEach((c, i) => {
      const want = rows[r]![i];
      const v = got[r]![c.name];
      if (want === null || want === undefined) assert.equal(v, null, `row ${r} ${c.name}`);
      else if (c.type === 'int64') assert.equal(v, BigInt(want as number), `row ${r} ${c.name}`);
      else if (c.type === 'timestamp-ms') assert.equal((v as Date).getTime(), want, `row ${r} ${c.name}`);
      else assert.ok(Object.is(v, want), `row ${r} ${c.name}: ${String(v)} vs ${String(want)}`);
    });
  }
}

function writeAll(path: string, rows: unknown[][], opts = {}, columns = COLUMNS): ParquetWriter {
  const w = new ParquetWriter(path, columns, opts);
  for (const row of rows) w.appendRow(row);
  w.close();
  return w;
}

describe('ParquetWriter, read back with hyparquet', () => {
  it('every value of every type, nulls included, in one row group', async () => {
    const rows = makeRows(1000);
    const path = join(dir, 'one.parquet');
    writeAll(path, rows);
    expectSame(await read(path), rows);
    const meta = parquetMetadata(fileOf(path));
    assert.equal(Number(meta.num_rows), 1000);
    assert.equal(meta.row_groups.length, 1);
    assert.deepEqual(
      meta.schema.slice(1).map((s) => [s.name, s.type, s.repetition_type]),
      [
        ['id', 'INT64', 'REQUIRED'],
        ['event_time', 'INT64', 'REQUIRED'],
        ['amount', 'DOUBLE', 'REQUIRED'],
        ['maybe', 'DOUBLE', 'OPTIONAL'],
        ['flag', 'BOOLEAN', 'REQUIRED'],
        ['note', 'BYTE_ARRAY', 'OPTIONAL'],
        ['größe €', 'INT64', 'OPTIONAL'],
      ],
    );
  });

  it('many row groups and pages of uneven sizes, uncompressed and GZIP', async () => {
    const rows = makeRows(25_013, 7);
    for (const compression of ['none', 'gzip'] as const) {
      const path = join(dir, `many-${compression}.parquet`);
      writeAll(path, rows, { rowGroupRows: 4096, pageRows: 1000, compression });
      const meta = parquetMetadata(fileOf(path));
      assert.equal(meta.row_groups.length, Math.ceil(25_013 / 4096));
      assert.equal(meta.row_groups.at(-1)!.num_rows, BigInt(25_013 % 4096));
      assert.equal(
        meta.row_groups[0]!.columns[0]!.meta_data!.codec,
        compression === 'gzip' ? 'GZIP' : 'UNCOMPRESSED',
      );
      expectSame(await read(path), rows);
    }
  });

  it('NaN, infinities, -0 and extreme doubles survive', async () => {
    const cols: ParquetColumn[] = [{ name: 'x', type: 'double' }];
    const values = [NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, Number.MAX_VALUE, 1 / 3];
    const path = join(dir, 'special.parquet');
    writeAll(
      path,
      values.map((v) => [v]),
      {},
      cols,
    );
    expectSame(
      await read(path),
      values.map((v) => [v]),
      cols,
    );
  });

  it('0 rows: a valid file with the schema and no row groups', async () => {
    const path = join(dir, 'empty.parquet');
    writeAll(path, []);
    const meta = parquetMetadata(fileOf(path));
    assert.equal(Number(meta.num_rows), 0);
    assert.deepEqual(meta.row_groups, []);
    assert.deepEqual(
      meta.schema.slice(1).map((s) => s.name),
      COLUMNS.map((c) => c.name),
    );
    assert.deepEqual(await read(path), []);
  });

  it('a row group of exactly rowGroupRows rows, pages of one row, all-null pages', async () => {
    const cols: ParquetColumn[] = [
      { name: 'a', type: 'double', optional: true },
      { name: 'b', type: 'boolean', optional: true },
    ];
    const rows = Array.from({ length: 16 }, (_, i) => (i < 9 ? [null, null] : [i, i % 3 === 0]));
    const path = join(dir, 'small-pages.parquet');
    writeAll(path, rows, { rowGroupRows: 8, pageRows: 1 }, cols);
    assert.equal(parquetMetadata(fileOf(path)).row_groups.length, 2);
    expectSame(await read(path), rows, cols);
  });

  it('footer key/value metadata and created_by', () => {
    const path = join(dir, 'meta.parquet');
    writeAll(path, makeRows(3), { metadata: { source: 'log:/data/log/tx', clé: 'välue' } });
    const meta = parquetMetadata(fileOf(path));
    assert.deepEqual(meta.key_value_metadata, [
      { key: 'source', value: 'log:/data/log/tx' },
      { key: 'clé', value: 'välue' },
    ]);
    assert.equal(meta.created_by, 'sluice parquet-writer');
  });

  it('features diff reads Parquet: a changed number and a changed time are mismatches, CSV times equal', () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int64' },
      { name: 'at', type: 'timestamp-ms' },
      { name: 'x', type: 'double' },
    ];
    const rows = [
      [1, Date.UTC(2018, 3, 1, 0, 0, 31), 0.5],
      [2, Date.UTC(2018, 3, 2), 1 / 3],
    ];
    const a = join(dir, 'diff-a.parquet');
    const b = join(dir, 'diff-b.parquet');
    writeAll(a, rows, {}, cols);
    writeAll(b, [rows[0]!, [2, Date.UTC(2018, 3, 2, 0, 0, 1), 1 / 3 + 1e-6]], {}, cols);
    const d = diffFeatureFiles(a, b, { key: 'id' });
    assert.deepEqual([d.matched, d.mismatches, d.mismatchesByColumn], [2, 2, { at: 1, x: 1 }]);
    const csv = join(dir, 'diff.csv');
    writeFileSync(csv, 'id,at,x\n1,2018-04-01 00:00:31,0.5\n2,2018-04-02 00:00:00,0.3333333333\n');
    assert.equal(diffFeatureFiles(csv, a, { key: 'id', tolerance: 1e-9 }).mismatches, 0);
  });

  it('refuses a missing required value, a non-integer int64 and duplicate names', () => {
    const w = new ParquetWriter(join(dir, 'bad.parquet'), [
      { name: 'a', type: 'int64' },
      { name: 'b', type: 'double' },
    ]);
    assert.throws(() => w.appendRow([null, 1]), /column a is required/);
    assert.throws(() => w.appendRow([1.5, 1]), /column a \(int64\)/);
    assert.throws(() => w.appendRow([1, '2']), /column b \(double\)/);
    w.close();
    assert.throws(
      () =>
        new ParquetWriter(join(dir, 'dup.parquet'), [
          { name: 'a', type: 'double' },
          { name: 'a', type: 'double' },
        ]),
      /distinct/,
    );
  });
});
