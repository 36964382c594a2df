/** Latency by percentile, every run on the HdrHistogram axis. */
import { DATA, arr } from './data.js';
import { fmtMs, fmtPct } from './format.js';
import { RUN_COLORS, line, register, widthOf, latencyAxis, latencyScale, type RunView, align } from './chart.js';

declare const uPlot: any;

export function distributionChart(views: RunView[], container: any): any {
  const runs = DATA.runs;
  const data = align(runs.map((r) => ({ x: arr(r.dist.x), y: arr(r.dist.y) })));
  let lo = Infinity;
  let hi = 0;
  for (const c of data.slice(1)) for (const y of c) if (y != null && y > 0) (lo = Math.min(lo, y)), (hi = Math.max(hi, y));
  const xMax = Math.max(10, data[0][data[0].length - 1] ?? 10);
  const opts = {
    width: widthOf(container),
    height: 340,
    padding: [12, 40, 0, 0],
    scales: {
      x: { time: false, distr: 3, log: 10, range: () => [1, Math.pow(10, Math.ceil(Math.log10(xMax)))] },
      y: latencyScale(lo, hi),
    },
    axes: [
      {
        label: 'percentile',
        size: 30,
        labelSize: 20,
        filter: (_u: any, splits: number[]) => splits,
        splits: (u: any) => {
          const out = [1, 2];
          for (let x = 10; x <= u.scales.x.max * 1.0001; x *= 10) out.push(x);
          return out;
        },
        values: (_u: any, splits: number[]) => splits.map(fmtPct),
      },
      latencyAxis('latency'),
    ],
    series: [
      { label: 'percentile', value: (_u: any, x: number) => fmtPct(x) },
      ...views.map((v) =>
        line({
          label: v.name,
          stroke: RUN_COLORS[v.index % RUN_COLORS.length],
          width: 2.25,
          spanGaps: true,
          value: (_u: any, y: number) => fmtMs(y),
        }),
      ),
    ],
    cursor: { drag: { x: true, y: false } },
  };
  return register('distribution', 'distribution', -1, new uPlot(opts, data, container));
}
