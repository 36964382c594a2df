/** Latency over time: every request (or the slowest of each pixel cell) and p50/p99/p99.9 per bucket. */
import { DATA } from './data.js';
import { fmtMs, fmtSec, fmtNum } from './format.js';
import { COLORS, PADDING, line, register, widthOf, Group, latencyAxis, timeAxis, latencyScale, wheelZoom, drawScatters, legendOnly, type RunView, stepData, steps, yShared } from './chart.js';
import { drawEventBands } from './events.js';

declare const uPlot: any;

export function latencyChart(v: RunView, container: any, group: Group): any {
  const nulls = new Array(v.sx.length).fill(null);
  const data = stepData(v, nulls, nulls, v.p50, v.p99, v.p999);
  const opts = {
    width: widthOf(container),
    height: DATA.runs.length > 2 ? 260 : 340,
    padding: PADDING,
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: latencyScale(yShared.lo, yShared.hi) },
    axes: [timeAxis(), latencyAxis('latency')],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      legendOnly(DATA.runs[v.index].points.exact ? 'request' : 'request (slowest per cell)', COLORS.okLegend, () => `${fmtNum(v.ok.x.length)} drawn`),
      legendOnly('failed', COLORS.fail, () => `${fmtNum(v.err.x.length)} drawn`),
      line({ label: `p50 per ${fmtSec(v.bucketS)}`, stroke: COLORS.p50, paths: steps(), value: (_u: any, y: number) => fmtMs(y) }),
      line({ label: 'p99', stroke: COLORS.p99, paths: steps(), value: (_u: any, y: number) => fmtMs(y) }),
      line({ label: 'p99.9', stroke: COLORS.p999, paths: steps(), value: (_u: any, y: number) => fmtMs(y) }),
    ],
    cursor: { drag: { x: true, y: false }, sync: { key: group.key } },
    hooks: {
      drawAxes: [
        (u: any) => {
          drawEventBands(u, v);
          drawScatters(u, u.series[1].show ? v.ok : null, u.series[2].show ? v.err : null);
        },
      ],
      setScale: [(u: any, key: string) => key === 'x' && group.sync(u)],
    },
  };
  const u = new uPlot(opts, data, container);
  group.add(u);
  wheelZoom(u, group);
  return register(`latency-${v.index}`, 'latency', v.index, u);
}
