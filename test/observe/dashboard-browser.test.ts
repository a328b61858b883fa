import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { FRAUD_SLO, runFraudDemo } from '../../src/apps/fraud/demo.js';
import { needService } from '../helpers/services.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = await needService(`chromium at ${CHROMIUM}`, () => existsSync(CHROMIUM));
const tmp = mkdtempSync(join(tmpdir(), 'sluice-dash-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// docs/dashboard.png is tracked: refresh it only when asked (or when missing), else keep a copy in tmp.
const docsShot = new URL('../../docs/dashboard.png', import.meta.url).pathname;
const shot =
  process.env.SLUICE_UPDATE_SCREENSHOT === '1' || !existsSync(docsShot)
    ? docsShot
    : join(tmpdir(), 'sluice-dashboard.png');

/** Polls a page-side expression until it is true. */
async function until(page: Page, expr: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expr))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard in a browser', () => {
  it('shows the fraud demo live: charts render and numbers move', { skip, timeout: 120_000 }, async () => {
    let gotUrl!: (url: string) => void;
    const url = new Promise<string>((resolve) => (gotUrl = resolve));
    const demo = runFraudDemo({
      events: 80_000,
      rate: 8000, // ~10 s of live data
      dataDir: join(tmp, 'data'),
      badRate: 0.003,
      dashboard: { port: 0 },
      onDashboard: gotUrl,
      slo: FRAUD_SLO,
      onAlert: () => {},
    });
    demo.catch(() => {}); // awaited below; keep an early failure from being unhandled
    const context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1250 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(
        await Promise.race([url, demo.then(() => Promise.reject(new Error('demo ended early')))]),
      );
      // Page-side code as strings (the project's TypeScript has no DOM types), run through
      // page.evaluate: waitForFunction would eval them, which the page's CSP forbids.
      await until(page, "document.querySelectorAll('.chart canvas').length >= 6");
      await until(page, "document.getElementById('conn').textContent === 'live'");
      const processed = () => page.locator('#t-processed').textContent();
      const first = await processed();
      await page.waitForTimeout(2500);
      const second = await processed();
      assert.notEqual(second, first, `processed moved: ${first} -> ${second}`);
      await page.waitForTimeout(3500); // a few more points on the charts before the picture
      const painted = (await page.evaluate(`[...document.querySelectorAll('.chart canvas')].map((c) => {
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        let line = 0; // pixels of the first series' colour (#2f6fdf): data was drawn, not just axes
        for (let i = 0; i < px.length; i += 4) {
          if (px[i + 3] !== 0) n++;
          if (Math.abs(px[i] - 47) < 40 && Math.abs(px[i + 1] - 111) < 40 && Math.abs(px[i + 2] - 223) < 40) line++;
        }
        return { w: c.width, h: c.height, painted: n, line };
      })`)) as { w: number; h: number; painted: number; line: number }[];
      assert.ok(painted.length >= 6);
      for (const c of painted) assert.ok(c.w > 100 && c.h > 100 && c.painted > 1000, JSON.stringify(c));
      // throughput, latency and memory always have data: their first series must be drawn
      for (const i of [0, 1, 5])
        assert.ok(painted[i]!.line > 50, `chart ${i}: ${JSON.stringify(painted[i])}`);
      const tables = (await page.evaluate(`({
        stages: document.querySelectorAll('#stages tbody tr').length,
        slo: document.querySelectorAll('#slo tbody tr').length,
        actions: document.querySelectorAll('#actions tbody tr').length,
      })`)) as { stages: number; slo: number; actions: number };
      assert.ok(tables.stages >= 4 && tables.slo === 3 && tables.actions > 0, JSON.stringify(tables));
      assert.deepEqual(errors, []);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`# dashboard screenshot: ${shot}`);
    } finally {
      await context.close();
    }
    const result = await demo;
    assert.equal(result.processed + result.dead_letters, 80_000);
  });
});
