/**
 * The explain lane (`plot -explain`): every slow request drawn (at most MAX_BREAKDOWN_BARS, the
 * slowest) as a stacked bar at its intended send time, on the run's time axis; the bar is its
 * latency, its segments are its parts (generator lag at the bottom, then the queue, stalls, GC
 * pauses, lock waits, unexplained handler time, transit). The legend lists the parts in explain's
 * ranking of causes; hovering names the request (trace id) and its parts.
 */
import { arr } from './data.js';
import { fmtMs, fmtSec, fmtNum, el } from './format.js';
import { Y_AXIS_SIZE, LABEL_SIZE, PADDING, dpr, register, widthOf, Group, timeAxis, wheelZoom, legendOnly, type RunView, clipToPlot } from './chart.js';

declare const uPlot: any;

const GC_SHADES = ['#e8590c', '#ffa94d', '#9c3606', '#ffd8a8'];
const LOCK_SHADES = ['#7048e8', '#ae3ec9', '#5f3dc4', '#9775fa'];
const FIXED: Record<string, string> = {
  generator: '#343a40',
  queue: '#4dabf7',
  stall: '#c2255c',
  unexplained: '#adb5bd',
  after: '#63e6be',
  unrecorded: '#dee2e6',
};

/** A colour per part kind; several GC kinds (or locks) get shades of the kind's colour. */
export function partColors(keys: string[]): string[] {
  let gc = 0;
  let lock = 0;
  return keys.map((k) => {
    if (k.startsWith('gc:')) return GC_SHADES[gc++ % GC_SHADES.length]!;
    if (k.startsWith('lock:')) return LOCK_SHADES[lock++ % LOCK_SHADES.length]!;
    return FIXED[k] ?? '#868e96';
  });
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/** The verdict sentence and what the lane shows, above the chart. */
export function breakdownHead(v: RunView, parent: any): void {
  const b = v.data.breakdown!;
  parent.append(el('p', { class: 'verdict' }, b.verdict));
  const drawn = b.drawn < b.slow ? `the slowest ${fmtNum(b.drawn)} of ${fmtNum(b.slow)} slow requests drawn` : `${fmtNum(b.slow)} slow requests`;
  const agent = b.agent ? `; server records for ${fmtNum(b.matched)} of ${fmtNum(b.results)} requests (${b.agent})` : '';
  parent.append(el('p', { class: 'note' }, `${drawn} (at or above ${b.threshold}), each a bar of its latency split into its parts${agent}. Legend: parts by explain's ranking of causes.`));
  for (const l of b.limits) parent.append(el('p', { class: 'note limit' }, `note: ${l}`));
}

export function breakdownChart(v: RunView, container: any, group: Group, caption: any): any | null {
  const b = v.data.breakdown;
  if (!b || b.drawn === 0) return null;
  const x = arr(b.x);
  const lat = arr(b.latencyMs);
  const seq = arr(b.seq);
  const cause = arr(b.cause);
  const parts = b.parts.map((p) => arr(p));
  const keys = b.keys;
  const colors = partColors(keys);
  const n = x.length;
  let yMax = 0;
  for (let i = 0; i < n; i++) yMax = Math.max(yMax, lat[i]!);
  // Drawn tallest first: a shorter bar at the same instant stays in front, and its top visible.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, c) => lat[c]! - lat[a]!);
  // Legend: the parts in explain's ranking (the cause of the most excess first), then the others.
  const rank = new Map(b.causes.map((c, i) => [c.key, i]));
  const legend = keys.map((_k, i) => i).sort((a, c) => (rank.get(keys[a]!) ?? 1e9) - (rank.get(keys[c]!) ?? 1e9));
  const seriesOf = new Array(keys.length);
  legend.forEach((k, s) => (seriesOf[k] = s + 1));
  const causeOf = new Map(b.causes.map((c) => [c.key, c]));
  const traceId = (i: number) => b.attackId + seq[i]!.toString(16).padStart(16, '0');
  const barWidth = () => Math.max(2, Math.round(4 * dpr()));
  const drawn = { bars: 0, segments: 0 };
  const opts = {
    width: widthOf(container),
    height: 170,
    padding: [6, PADDING[1], 4, 0],
    scales: { x: { time: false, range: (_u: any, a: number, c: number) => [a, c] }, y: { range: () => [0, yMax * 1.08 || 1] } },
    axes: [
      timeAxis(false),
      { label: 'slow requests', size: Y_AXIS_SIZE, labelSize: LABEL_SIZE, values: (_u: any, sp: number[]) => sp.map((s) => fmtMs(s)) },
    ],
    series: [
      { label: 'time', value: (_u: any, t: number) => fmtSec(t) },
      ...legend.map((k) => {
        const c = causeOf.get(keys[k]!);
        return legendOnly(b.labels[k]!, colors[k]!, () => (!c ? '' : c.requests > 0 ? `cause of ${fmtNum(c.requests)} (${pct(c.shareOfRequests)}), ${pct(c.shareOfExcess)} of excess` : `${pct(c.shareOfExcess)} of excess`));
      }),
    ],
    legend: { show: true },
    cursor: { drag: { x: true, y: false }, sync: { key: group.key }, y: false, points: { show: false } },
    hooks: {
      drawAxes: [
        (u: any) => {
          const { ctx, min, max } = clipToPlot(u);
          const w = barWidth();
          drawn.bars = 0;
          drawn.segments = 0;
          for (const i of order) {
            if (x[i]! < min || x[i]! > max) continue;
            const px = Math.round(u.valToPos(x[i]!, 'x', true) - w / 2);
            let acc = 0;
            drawn.bars++;
            for (let k = 0; k < keys.length; k++) {
              const h = parts[k]![i]!;
              if (!(h > 0)) continue;
              const y0 = u.valToPos(acc, 'y', true);
              acc += h;
              // A hidden part leaves its gap: the bar's top stays the request's latency.
              if (!u.series[seriesOf[k]].show) continue;
              const y1 = u.valToPos(acc, 'y', true);
              ctx.fillStyle = colors[k]!;
              ctx.fillRect(px, y1, w, Math.max(y0 - y1, 0.5));
              drawn.segments++;
            }
          }
          ctx.restore();
        },
      ],
      setScale: [(u: any, key: string) => key === 'x' && group.sync(u)],
      setCursor: [
        (u: any) => {
          const left = u.cursor.left;
          if (left == null || left < 0) {
            caption.textContent = '';
            return;
          }
          // The bar under the cursor (the front one: the shortest that reaches it), else the nearest within a few px.
          const at = u.posToVal(left, 'x');
          const slop = Math.abs(u.posToVal(left + barWidth() / dpr() / 2 + 3, 'x') - at);
          const yAt = u.cursor.top != null && u.cursor.top >= 0 ? u.posToVal(u.cursor.top, 'y') : 0;
          let best = -1;
          let under = false;
          for (let i = 0; i < n; i++) {
            const d = Math.abs(x[i]! - at);
            if (d > slop) continue;
            const covers = lat[i]! >= yAt;
            if (best < 0 || (covers && (!under || lat[i]! < lat[best]!)) || (!covers && !under && d < Math.abs(x[best]! - at))) {
              best = i;
              under = covers;
            }
          }
          if (best < 0) {
            caption.textContent = '';
            return;
          }
          const list = keys
            .map((k, j) => [k, parts[j]![best]!] as const)
            .filter(([, ms]) => ms > 0)
            .sort((p, q) => q[1] - p[1])
            .map(([k, ms]) => `${b.labels[keys.indexOf(k)]} ${fmtMs(ms)}`)
            .join(', ');
          caption.textContent = `trace ${traceId(best)}: ${fmtMs(lat[best]!)} at ${fmtSec(x[best]!)}, cause ${b.labels[cause[best]!]}; ${list}`;
          caption.dataset.trace = traceId(best);
        },
      ],
    },
  };
  const u = new uPlot(opts, [[0, v.dur], ...legend.map(() => [null, null])], container);
  u.tpDrawn = drawn;
  group.add(u);
  wheelZoom(u, group);
  return register(`breakdown-${v.index}`, 'breakdown', v.index, u);
}
