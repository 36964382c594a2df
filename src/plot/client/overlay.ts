/** p99 over time, every run on one chart (time since each run's start). */
import { fmtMs, fmtSec } from './format.js';
import { RUN_COLORS, PADDING, line, register, widthOf, Group, latencyAxis, timeAxis, latencyScale, wheelZoom, type RunView, steps, align } from './chart.js';

declare const uPlot: any;

export function overlayChart(views: RunView[], container: any, group: Group): any {
  const data = align(
    views.map((v) => ({
      x: [...v.sx, v.data.series.endS],
      y: [...v.p99, v.p99[v.p99.length - 1] ?? null].map((y) => (y == null ? NaN : y)),
    })),
  );
  let lo = Infinity;
  let hi = 0;
  for (const c of data.slice(1)) for (const y of c) if (y != null && y > 0) (lo = Math.min(lo, y)), (hi = Math.max(hi, y));
  data[0] = [0, ...data[0], group.full[1]];
  for (let i = 1; i < data.length; i++) data[i] = [null, ...data[i], null];
  const opts = {
    width: widthOf(container),
    height: 260,
    padding: PADDING,
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: latencyScale(lo, hi) },
    axes: [timeAxis(), latencyAxis('p99')],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      ...views.map((v) =>
        line({
          label: v.name,
          stroke: RUN_COLORS[v.index % RUN_COLORS.length],
          paths: steps(),
          spanGaps: true,
          value: (_u: any, y: number) => fmtMs(y),
        }),
      ),
    ],
    cursor: { drag: { x: true, y: false }, sync: { key: group.key } },
    hooks: { setScale: [(u: any, key: string) => key === 'x' && group.sync(u)] },
  };
  const u = new uPlot(opts, data, container);
  group.add(u);
  wheelZoom(u, group);
  return register('overlay', 'overlay', -1, u);
}
