/**
 * The dashboard's browser script (served as /app.js): keeps the last 10 minutes of snapshots
 * from `/events` per pipeline and redraws six uPlot charts and four tables once per snapshot.
 * Plain browser JavaScript in a string (no bundler); it must not contain backticks.
 */
export const DASHBOARD_JS = String.raw`
(() => {
  'use strict';
  const MAX = 600;
  const COLORS = ['#2f6fdf', '#d64545', '#1f9d55', '#d98a00', '#8a4fd1', '#0f9bb0', '#c2477f', '#6b7385', '#7a9a01', '#a0522d'];
  const $ = (id) => document.getElementById(id);
  const data = {}; // pipeline -> { t: [], series: { chartId: { key: [] } }, last, prev }
  const charts = {}; // chartId -> { u, keys }
  let current = null;

  const num = (n) => {
    if (n === null || n === undefined || Number.isNaN(n)) return '–';
    const a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(2) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return a >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(2);
  };
  const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + ' ms';
  const mib = (b) => b / 1048576;
  const cell = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(+v.toPrecision(4))) : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));
  const dur = (msec) => (msec % 3600000 === 0 ? msec / 3600000 + 'h' : msec % 60000 === 0 ? msec / 60000 + 'm' : msec / 1000 + 's');
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  const pos = (x) => (x > 0 ? x : null); // log scales cannot show 0

  // What each chart plots from one snapshot (linear ranges start just below 0, so that a flat
  // zero line shows instead of hiding on the axis) (and the one before it, for per-second rates).
  const DEFS = {
    'c-eps': { log: false, values: (s, p) => ({
      'events/s': s.eps,
      'actions/s': p ? Math.max(0, (s.counters.actions - p.counters.actions) * 1000 / s.intervalMs) : 0,
    }) },
    'c-lat': { log: true, values: (s) => {
      const o = { 'e2e p50': pos(s.e2e.p50), 'e2e p99': pos(s.e2e.p99), 'e2e p99.9': pos(s.e2e.p999) };
      for (const k of Object.keys(s.stages)) o[k + ' p99'] = pos(s.stages[k].p99);
      return o;
    } },
    'c-lag': { log: false, values: (s) => {
      const o = { 'total': s.lag };
      const parts = s.partitionLag || {};
      const keys = Object.keys(parts);
      if (keys.length > 1 && keys.length <= 8) for (const k of keys) o[k] = parts[k];
      return o;
    } },
    'c-err': { log: false, values: (s, p) => {
      const per = (a, b) => (p ? Math.max(0, (a - b) * 1000 / s.intervalMs) : 0);
      return {
        'dead letters/s': per(s.counters.deadLetters, p ? p.counters.deadLetters : 0),
        'late records/s': per(sum(s.lateRecords), p ? sum(p.lateRecords) : 0),
      };
    } },
    'c-queue': { log: false, values: (s) => {
      const o = {};
      for (const k of Object.keys(s.queues)) o['queue ' + k] = s.queues[k].depth;
      for (const k of Object.keys(s.batchSizes)) if (s.batchSizes[k].count) o['batch ' + k] = s.batchSizes[k].mean;
      return o;
    } },
    'c-mem': { log: false, values: (s) => ({ 'RSS': mib(s.memory.rss), 'heap used': mib(s.memory.heapUsed), 'heap total': mib(s.memory.heapTotal) }) },
  };

  function store(s) {
    let d = data[s.pipeline];
    if (!d) {
      d = data[s.pipeline] = { t: [], series: {}, last: null, prev: null };
      const opt = document.createElement('option');
      opt.value = opt.textContent = s.pipeline;
      $('pipeline').appendChild(opt);
      if (current === null) current = s.pipeline;
    }
    const n = d.t.length;
    d.t.push(s.at / 1000);
    for (const id of Object.keys(DEFS)) {
      const vals = DEFS[id].values(s, d.last);
      const ser = d.series[id] || (d.series[id] = {});
      for (const k of Object.keys(vals)) if (!ser[k]) ser[k] = new Array(n).fill(null);
      for (const k of Object.keys(ser)) ser[k].push(k in vals ? vals[k] : null);
    }
    if (d.t.length > MAX) {
      d.t.shift();
      for (const id of Object.keys(d.series)) for (const k of Object.keys(d.series[id])) d.series[id][k].shift();
    }
    d.prev = d.last;
    d.last = s;
  }

  function draw(id, d) {
    const el = $(id);
    const ser = d.series[id] || {};
    const keys = Object.keys(ser);
    let c = charts[id];
    if (!c || c.keys.join('\n') !== keys.join('\n')) {
      if (c) c.u.destroy();
      const opts = {
        width: el.clientWidth || 460,
        height: 220,
        scales: { x: { time: true }, y: DEFS[id].log ? { distr: 3 } : { auto: true, range: (u, lo, hi) => [-0.02 * (hi > 0 ? hi : 1), hi > 0 ? hi * 1.1 : 1] } },
        series: [{}].concat(keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: false } }))),
        axes: [{}, { size: 56, values: (u, vals) => vals.map(num) }],
        legend: { live: true },
      };
      c = charts[id] = { u: new uPlot(opts, [d.t].concat(keys.map((k) => ser[k])), el), keys };
    } else {
      c.u.setData([d.t].concat(keys.map((k) => ser[k])));
    }
  }

  function table(head, rows, numeric) {
    if (rows.length === 0) return '';
    const th = head.map((h, i) => '<th' + (numeric[i] ? ' class="num"' : '') + '>' + esc(h) + '</th>').join('');
    const tr = rows.map((r) => '<tr>' + r.map((v, i) => '<td' + (numeric[i] ? ' class="num"' : '') + '>' + v + '</td>').join('') + '</tr>').join('');
    return '<table><thead><tr>' + th + '</tr></thead><tbody>' + tr + '</tbody></table>';
  }
  const badge = (state) => '<span class="badge ' + esc(state) + '">' + esc(state) + '</span>';
  const orEmpty = (html, what) => html || '<div class="empty">' + what + '</div>';

  function render() {
    const d = data[current];
    if (!d || !d.last) return;
    const s = d.last;
    $('t-eps').textContent = num(s.eps);
    $('t-processed').textContent = num(s.counters.processed);
    $('t-lag').textContent = num(s.lag);
    $('t-p99').textContent = s.e2e.count ? ms(s.e2e.p99) : '–';
    $('t-actions').textContent = num(s.counters.actions);
    $('t-dead').textContent = num(s.counters.deadLetters);
    $('t-rss').textContent = num(mib(s.memory.rss)) + ' MiB';
    $('elapsed').textContent = 'running ' + Math.round(s.elapsedMs / 1000) + ' s';
    for (const id of Object.keys(DEFS)) draw(id, d);
    $('slo').innerHTML = orEmpty(table(['SLO', 'metric', 'objective', 'value', 'state', 'fired'],
      s.slo.map((r) => [esc(r.name), esc(r.metric), esc(r.op + ' ' + r.threshold + ' over ' + dur(r.windowMs)),
        r.value === null ? '–' : num(r.value), badge(r.state), String(r.fired)]), [0, 0, 0, 1, 0, 1]), 'no SLO rules configured');
    $('stages').innerHTML = table(['stage', 'records', 'p50', 'p99', 'max', 'dead', 'queue', 'batch'],
      Object.keys(s.stages).map((k) => {
        const h = s.stages[k];
        const q = s.queues[k];
        const b = s.batchSizes[k];
        return [esc(k), num(h.count), ms(h.p50), ms(h.p99), ms(h.max), num((s.deadLetters || {})[k] || 0),
          q ? q.depth + '/' + q.capacity : '', b && b.count ? num(b.mean) : ''];
      }), [0, 1, 1, 1, 1, 1, 1, 1]);
    $('breakers').innerHTML = orEmpty(table(['breaker', 'state'],
      Object.keys(s.breakers).map((k) => [esc(k), badge(s.breakers[k])]), [0, 0]), 'no circuit breakers reported');
    const acts = s.actions.latest;
    const cols = acts.length ? Object.keys(acts[0]) : [];
    $('actions').innerHTML = orEmpty(table(cols, acts.map((a) => cols.map((k) => esc(cell(a[k])))),
      cols.map((k) => typeof acts[0][k] === 'number')), 'no actions yet') +
      (s.actions.total ? '<div class="empty">' + num(s.actions.total) + ' recorded in total</div>' : '');
  }

  $('pipeline').addEventListener('change', (e) => {
    current = e.target.value;
    for (const id of Object.keys(charts)) { charts[id].u.destroy(); delete charts[id]; }
    render();
  });
  window.addEventListener('resize', () => {
    for (const id of Object.keys(charts)) charts[id].u.setSize({ width: $(id).clientWidth, height: 220 });
  });

  const es = new EventSource('events');
  es.onopen = () => { $('conn').textContent = 'live'; $('conn').className = 'live'; };
  es.onerror = () => { $('conn').textContent = 'reconnecting…'; $('conn').className = 'down'; };
  es.onmessage = (e) => {
    const s = JSON.parse(e.data);
    store(s);
    if (s.pipeline === current) render();
  };
})();
`;
