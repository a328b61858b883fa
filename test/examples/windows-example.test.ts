import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pageViewsPerMinute } from '../../examples/windows/page-views.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;

describe('examples/windows: page views per page and minute', () => {
  it('yields { key, start, end, ...aggregates } per window, in end order, and routes the late view', async () => {
    const { results, late } = await pageViewsPerMinute();
    assert.deepEqual(
      results.map((r) => ({ ...r })),
      [
        { key: '/home', start: T0, end: T0 + MIN, views: 3, users: 3, slowestMs: 180 },
        { key: '/cart', start: T0, end: T0 + MIN, views: 1, users: 1, slowestMs: 340 },
        { key: '/home', start: T0 + MIN, end: T0 + 2 * MIN, views: 1, users: 1, slowestMs: 101 },
        { key: '/cart', start: T0 + MIN, end: T0 + 2 * MIN, views: 1, users: 1, slowestMs: 410 },
        { key: '/home', start: T0 + 2 * MIN, end: T0 + 3 * MIN, views: 2, users: 2, slowestMs: 130 },
      ],
    );
    assert.equal(late.length, 1);
    assert.equal(late[0]!.stage, 'perMinute');
    assert.deepEqual(late[0]!.original, { page: '/cart', user: 'cy', at: T0 + 50_000, loadMs: 250 });
    assert.match(late[0]!.reason, /^late: event time 2026-01-01T12:00:50.000Z is behind the watermark/);
  });

  it('runs as a script and prints the windows and the late record', () => {
    const script = fileURLToPath(new URL('../../examples/windows/page-views.ts', import.meta.url));
    const p = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const lines = p.stdout.trim().split('\n');
    assert.equal(lines.length, 6);
    assert.equal(lines[0], '/home  12:00-12:01  views 3  users 3  slowest 180 ms');
    assert.match(lines[5]!, /^late: \{"page":"\/cart","user":"cy"/);
  });
});
