/** The agent's GC pauses and event-loop stalls: a lane of their own, and bands behind the latency points. */
import { arr } from './data.js';
import { fmtMs, fmtSec, fmtNum } from './format.js';
import { COLORS, Y_AXIS_SIZE, LABEL_SIZE, PADDING, dpr, register, widthOf, Group, timeAxis, wheelZoom, legendOnly, type RunView, clipToPlot } from './chart.js';

declare const uPlot: any;

/** Long pauses and stalls as faint full-height bands behind the points: the lurch sits inside its pause. */
export const BAND_MIN_MS = 10;

export function drawEventBands(u: any, v: RunView): void {
  const ev = v.data.events;
  if (!ev || ev.count === 0) return;
  const kind = arr(ev.kind);
  const x0 = arr(ev.x0);
  const dur = arr(ev.durMs);
  const { ctx, left, top, width, height, min, max } = clipToPlot(u);
  for (let i = 0; i < kind.length; i++) {
    if (dur[i]! < BAND_MIN_MS) continue;
    const a = x0[i]!;
    const b = a + dur[i]! / 1000;
    if (b < min || a > max) continue;
    const pa = u.valToPos(a, 'x', true);
    const pb = Math.max(u.valToPos(b, 'x', true), pa + dpr());
    ctx.fillStyle = kind[i] === 0 ? 'rgba(232, 89, 12, 0.13)' : 'rgba(194, 37, 92, 0.10)';
    ctx.fillRect(pa, top, pb - pa, height);
  }
  ctx.restore();
}

export function eventsChart(v: RunView, container: any, group: Group, caption: any): any | null {
  const ev = v.data.events;
  if (!ev || ev.count === 0) return null;
  const kind = arr(ev.kind);
  const x0 = arr(ev.x0);
  const dur = arr(ev.durMs);
  const detailIdx = arr(ev.detail);
  const details: string[] = ev.details;
  const opts = {
    width: widthOf(container),
    height: 64,
    padding: [4, PADDING[1], 4, 0],
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: { range: () => [0, 2] } },
    axes: [
      timeAxis(false),
      {
        label: 'agent',
        size: Y_AXIS_SIZE,
        labelSize: LABEL_SIZE,
        splits: () => [0.5, 1.5],
        values: () => ['stall', 'GC'],
        grid: { show: false },
        ticks: { show: false },
      },
    ],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      legendOnly('GC pause', COLORS.gc, () => `${fmtNum(ev.gcCount)} (max ${fmtMs(ev.gcMaxMs)})`),
      legendOnly('event-loop stall', COLORS.stall, () => `${fmtNum(ev.stallCount)} (max ${fmtMs(ev.stallMaxMs)})`),
    ],
    legend: { show: true },
    cursor: { drag: { x: true, y: false }, sync: { key: group.key }, y: false },
    hooks: {
      drawAxes: [
        (u: any) => {
          const { ctx, left, top, width, height, min, max } = clipToPlot(u);
          ctx.fillStyle = 'rgba(0,0,0,0.035)';
          ctx.fillRect(left, top, width, height / 2 - dpr());
          for (let i = 0; i < kind.length; i++) {
            const k = kind[i]!;
            if (!u.series[k === 0 ? 1 : 2].show) continue;
            const a = x0[i]!;
            const b = a + dur[i]! / 1000;
            if (b < min || a > max) continue;
            const pa = u.valToPos(a, 'x', true);
            const pb = Math.max(u.valToPos(b, 'x', true), pa + Math.max(1.5, dpr()));
            const y0 = u.valToPos(k === 0 ? 1.85 : 0.85, 'y', true);
            const y1 = u.valToPos(k === 0 ? 1.15 : 0.15, 'y', true);
            ctx.fillStyle = k === 0 ? COLORS.gc : COLORS.stall;
            ctx.fillRect(pa, y0, pb - pa, y1 - y0);
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
          // The longest event within 3 px of the cursor.
          const at = u.posToVal(left, 'x');
          const slop = u.posToVal(left + 3, 'x') - at;
          let best = -1;
          for (let i = 0; i < kind.length; i++) {
            const a = x0[i]!;
            if (a - slop <= at && at <= a + dur[i]! / 1000 + slop && (best < 0 || dur[i]! > dur[best]!)) best = i;
          }
          caption.textContent =
            best < 0
              ? ''
              : `${kind[best] === 0 ? 'GC pause' : 'event-loop stall'} ${fmtMs(dur[best]!)} at ${fmtSec(x0[best]!)}` +
                (details[detailIdx[best]!] ? ` (${details[detailIdx[best]!]})` : '');
        },
      ],
    },
  };
  const u = new uPlot(opts, [[0, v.dur], [null, null], [null, null]], container);
  group.add(u);
  wheelZoom(u, group);
  return register(`events-${v.index}`, 'events', v.index, u);
}
