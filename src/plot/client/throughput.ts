/** Throughput and status codes over time. */
import { arr } from './data.js';
import { fmtSec, fmtNum } from './format.js';
import { COLORS, CODE_COLORS, Y_AXIS_SIZE, LABEL_SIZE, PADDING, line, register, widthOf, Group, timeAxis, wheelZoom, type RunView, stepData, steps } from './chart.js';

declare const uPlot: any;

export function codeColor(code: number, used: Record<string, number>): string {
  const cls = code < 0 ? 'o' : code === 0 ? '0' : String(Math.floor(code / 100));
  const list = CODE_COLORS[cls] ?? CODE_COLORS.o!;
  const n = used[cls] ?? 0;
  used[cls] = n + 1;
  return list[n % list.length]!;
}

export function throughputChart(v: RunView, container: any, group: Group): any {
  const s = v.data.series;
  const per = (a: ArrayLike<number>) => Array.from(a, (c) => c / v.bucketS);
  const used: Record<string, number> = {};
  const codes = s.codes.map((c) => ({
    label: c.code < 0 ? 'other codes' : c.code === 0 ? 'no response' : String(c.code),
    color: codeColor(c.code, used),
    values: per(arr(c.counts)),
  }));
  const cols = [per(arr(s.requests)), per(arr(s.completed)), ...codes.map((c) => c.values), per(arr(s.errors))];
  const data = stepData(v, ...cols);
  const val = (_u: any, y: number) => (y == null ? '—' : `${fmtNum(y)}/s`);
  const opts = {
    width: widthOf(container),
    height: 190,
    padding: PADDING,
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: { range: (_u: any, _a: number, b: number) => [0, Math.max(1, (b || 1) * 1.12)] } },
    axes: [timeAxis(), { label: 'requests / s', size: Y_AXIS_SIZE, labelSize: LABEL_SIZE, values: (_u: any, sp: number[]) => sp.map(fmtNum) }],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      line({ label: 'scheduled', stroke: '#adb5bd', width: 3, paths: steps(), value: val }),
      line({ label: 'completed', stroke: COLORS.requests, width: 1.75, paths: steps(), value: val }),
      ...codes.map((c) => line({ label: c.label, stroke: c.color, width: 1.5, paths: steps(), value: val })),
      line({ label: 'errors', stroke: COLORS.fail, width: 1.5, dash: [5, 3], paths: steps(), value: val }),
    ],
    cursor: { drag: { x: true, y: false }, sync: { key: group.key } },
    hooks: { setScale: [(u: any, key: string) => key === 'x' && group.sync(u)] },
  };
  const u = new uPlot(opts, data, container);
  group.add(u);
  wheelZoom(u, group);
  return register(`throughput-${v.index}`, 'throughput', v.index, u);
}
