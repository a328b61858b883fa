/**
 * Event-time windows in one small pipeline: page views per page and minute, with late records.
 *
 *   npx tsx examples/windows/page-views.ts
 *
 * prints one line per window result (`{ key, start, end, views, users, slowestMs }`) and one per
 * late record. The views arrive out of order, as they do from many browsers: `outOfOrderness`
 * says how far behind the newest one a view may arrive and still count; one view arrives later
 * than that, after its window closed, and goes to the late output with the reason.
 */
import { pathToFileURL } from 'node:url';
import {
  count,
  distinctCount,
  maxOf,
  pipeline,
  seconds,
  minutes,
  tumbling,
  type DeadLetter,
  type WindowResult,
} from '../../src/index.js';
import { collect, fromArray } from '../../src/testing.js';

export interface PageView {
  page: string;
  user: string;
  /** When the browser showed the page, epoch ms: the event time. */
  at: number;
  /** How long the page took to load. */
  loadMs: number;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // 12:00:00
const at = (m: number, s: number) => T0 + minutes(m) + seconds(s);

/** Three minutes of views, in arrival order (not event-time order). */
export const VIEWS: PageView[] = [
  { page: '/home', user: 'ana', at: at(0, 5), loadMs: 120 },
  { page: '/cart', user: 'ben', at: at(0, 20), loadMs: 340 },
  { page: '/home', user: 'ben', at: at(0, 40), loadMs: 95 },
  { page: '/home', user: 'ana', at: at(1, 2), loadMs: 101 },
  { page: '/home', user: 'cy', at: at(0, 58), loadMs: 180 }, // 4 s behind the newest: still counts
  { page: '/cart', user: 'ana', at: at(1, 30), loadMs: 410 },
  { page: '/home', user: 'dee', at: at(2, 15), loadMs: 88 },
  { page: '/cart', user: 'cy', at: at(0, 50), loadMs: 250 }, // 85 s behind: its window has closed
  { page: '/home', user: 'ben', at: at(2, 50), loadMs: 130 },
];

export type PageMinute = WindowResult<{ views: number; users: number; slowestMs: number | null }>;

/** Runs the pipeline over `views`; resolves to the window results and the late records. */
export async function pageViewsPerMinute(
  views: PageView[] = VIEWS,
): Promise<{ results: PageMinute[]; late: DeadLetter[] }> {
  const out = collect<PageMinute>();
  const run = pipeline('page-views')
    .from(fromArray(views, { topic: 'views' }))
    .eventTime((v) => v.at)
    .keyBy((v) => v.page) // windows are per key: keyBy comes first
    .window(tumbling({ size: minutes(1) }), {
      name: 'perMinute',
      outOfOrderness: seconds(10), // a view may arrive 10 s behind the newest one
      allowedLateness: 0, // a window closes as soon as the watermark passes its end
    })
    .aggregate({
      views: count(),
      users: distinctCount((v: PageView) => v.user),
      slowestMs: maxOf((v: PageView) => v.loadMs), // number | null (null: no record)
    })
    .to(out)
    .run();
  await run.done;
  return { results: out.values, late: run.lateRecords!.items };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { results, late } = await pageViewsPerMinute();
  const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
  for (const r of results)
    console.log(
      `${String(r.key).padEnd(6)} ${hhmm(r.start)}-${hhmm(r.end)}  views ${r.views}  users ${r.users}  slowest ${r.slowestMs} ms`,
    );
  for (const l of late) console.log(`late: ${JSON.stringify(l.original)} (${l.reason})`);
}
