/**
 * The dashboard's single HTML page: layout and styles only; charts are drawn by `/app.js`
 * (dashboard-client.ts) with uPlot from `/uplot.js`, fed by `/events` (one snapshot a second).
 * Kept in TypeScript so that `tsc` ships it in dist/ without a copy step.
 */
export function dashboardHtml(title: string): string {
  const t = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t}</title>
<link rel="stylesheet" href="uplot.css">
<style>
  :root { --bg: #f5f6f8; --card: #fff; --ink: #1d2330; --mute: #6b7385; --line: #e2e5ea;
          --ok: #1f9d55; --bad: #d64545; --warn: #d98a00; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #18202e; color: #fff; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header .spacer { flex: 1; }
  header select { font: inherit; padding: 2px 6px; }
  #conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #555; }
  #conn.live { background: var(--ok); } #conn.down { background: var(--bad); }
  main { padding: 14px 20px 30px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; margin-bottom: 14px; }
  .tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
  .tile .k { color: var(--mute); font-size: 12px; }
  .tile .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 14px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
  .card h2 { font-size: 13px; margin: 0 0 6px; color: var(--mute); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
  .chart { min-height: 240px; }
  .card.wide { grid-column: 1 / -1; }
  .card h2.sub { margin-top: 14px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--mute); font-weight: 600; }
  td.num, th.num { text-align: right; }
  .badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; color: #fff; background: #888; }
  .badge.ok, .badge.closed { background: var(--ok); } .badge.firing, .badge.open { background: var(--bad); }
  .badge.half-open { background: var(--warn); } .badge.no-data { background: #999; }
  .empty { color: var(--mute); font-style: italic; }
  .scroll { max-height: 320px; overflow: auto; }
</style>
</head>
<body>
<header>
  <h1>${t}</h1>
  <select id="pipeline" aria-label="pipeline"></select>
  <span id="elapsed"></span>
  <span class="spacer"></span>
  <span id="conn">connecting…</span>
</header>
<main>
  <section class="tiles" id="tiles">
    <div class="tile"><div class="k">events/s</div><div class="v" id="t-eps">–</div></div>
    <div class="tile"><div class="k">processed</div><div class="v" id="t-processed">–</div></div>
    <div class="tile"><div class="k">consumer lag</div><div class="v" id="t-lag">–</div></div>
    <div class="tile"><div class="k">e2e p99 (1 s)</div><div class="v" id="t-p99">–</div></div>
    <div class="tile"><div class="k">actions</div><div class="v" id="t-actions">–</div></div>
    <div class="tile"><div class="k">dead letters</div><div class="v" id="t-dead">–</div></div>
    <div class="tile"><div class="k">memory (RSS)</div><div class="v" id="t-rss">–</div></div>
  </section>
  <section class="grid">
    <div class="card"><h2>Throughput</h2><div class="chart" id="c-eps"></div></div>
    <div class="card"><h2>Latency percentiles (ms, per second, log scale)</h2><div class="chart" id="c-lat"></div></div>
    <div class="card"><h2>Consumer lag (records)</h2><div class="chart" id="c-lag"></div></div>
    <div class="card"><h2>Errors: dead letters and late records (per second)</h2><div class="chart" id="c-err"></div></div>
    <div class="card"><h2>Queue depth (batches) and batch size (records)</h2><div class="chart" id="c-queue"></div></div>
    <div class="card"><h2>Memory (MiB)</h2><div class="chart" id="c-mem"></div></div>
    <div class="card"><h2>SLO status</h2><div id="slo"></div><h2 class="sub">Circuit breakers</h2><div id="breakers"></div></div>
    <div class="card"><h2>Stages (last second)</h2><div id="stages"></div></div>
    <div class="card wide"><h2>Latest actions</h2><div class="scroll" id="actions"></div></div>
  </section>
</main>
<script src="uplot.js"></script>
<script src="app.js"></script>
</body>
</html>
`;
}
