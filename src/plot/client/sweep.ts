/** A sweep's percentiles against the offered rate, the SLO's limits and the knee. */
import { DATA, arr, nullable } from './data.js';
import { fmtMs, fmtNum } from './format.js';
import { COLORS, PADDING, dpr, register, widthOf, latencyAxis, latencyScale } from './chart.js';

declare const uPlot: any;

export function sweepChart(container: any): any {
  const sw = DATA.sweep!;
  const rate = arr(sw.rate);
  const cols = (['p50', 'p90', 'p99', 'p999', 'max'] as const).map((k) => nullable(arr(sw[k])));
  const limits = sw.slo?.limits ?? [];
  let lo = Infinity;
  let hi = 0;
  for (const c of cols) for (const y of c) if (y != null && y > 0) (lo = Math.min(lo, y)), (hi = Math.max(hi, y));
  for (const l of limits) (lo = Math.min(lo, l.ms)), (hi = Math.max(hi, l.ms));
  const rMax = rate.length ? rate[rate.length - 1]! : 1;
  const val = (_u: any, y: number) => fmtMs(y);
  const opts = {
    width: widthOf(container),
    height: 360,
    padding: PADDING,
    scales: { x: { time: false, range: () => [0, rMax * 1.05] }, y: latencyScale(lo, hi) },
    axes: [
      { label: 'offered rate (requests / s)', size: 30, labelSize: 20, values: (_u: any, sp: number[]) => sp.map(fmtNum) },
      latencyAxis('latency'),
    ],
    series: [
      { label: 'offered', value: (_u: any, x: number) => (x == null ? '—' : `${fmtNum(x)}/s`) },
      { label: 'p50', stroke: COLORS.p50, width: 2, value: val, points: { show: true, size: 6 } },
      { label: 'p90', stroke: '#1c7ed6', width: 1.5, value: val, points: { show: true, size: 5 } },
      { label: 'p99', stroke: COLORS.p99, width: 2, value: val, points: { show: true, size: 6 } },
      { label: 'p99.9', stroke: COLORS.p999, width: 2, value: val, points: { show: true, size: 6 } },
      { label: 'max', stroke: COLORS.max, width: 1, dash: [4, 4], value: val, points: { show: true, size: 4 } },
    ],
    cursor: { drag: { x: true, y: false } },
    hooks: {
      draw: [
        (u: any) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.font = `${12 * dpr()}px system-ui, sans-serif`;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'alphabetic';
          ctx.lineWidth = 1.5 * dpr();
          for (const l of limits) {
            const y = u.valToPos(l.ms, 'y', true);
            ctx.strokeStyle = COLORS.slo;
            ctx.setLineDash([6 * dpr(), 4 * dpr()]);
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + width, y);
            ctx.stroke();
            ctx.fillStyle = COLORS.slo;
            ctx.fillText(`SLO ${l.label}`, left + 6 * dpr(), y - 5 * dpr());
          }
          if (sw.knee != null) {
            const x = u.valToPos(sw.knee, 'x', true);
            ctx.strokeStyle = COLORS.knee;
            ctx.setLineDash([3 * dpr(), 3 * dpr()]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillStyle = COLORS.knee;
            const how = sw.kneeMethod === 'slo' ? ' (highest rate meeting the SLO)' : sw.kneeMethod === 'latency' ? ' (where p99 explodes)' : '';
            ctx.fillText(`knee ${fmtNum(sw.knee)}/s${how}`, x + 5 * dpr(), top + 14 * dpr());
          }
          ctx.restore();
        },
      ],
    },
  };
  return register('sweep', 'sweep', -1, new uPlot(opts, [Array.from(rate), ...cols], container));
}
