import type { Profile } from 'pprof-format';
import { formatDuration } from '../units/duration.js';
import { int64 } from './parse.js';
import { forEachStack, formatValue, sampleTypeInfo } from './top.js';
import { runtimeShare, topFunction, profileKind } from './summary.js';

/**
 * A flame graph of a profile as one HTML page with everything inline (data, script, style): it
 * opens from disk, from a CI artifact or an e-mail, with no network. Root at the top (as pprof's
 * and speedscope's), widths proportional to the sample value; click a frame to zoom into it, type
 * in the search box to highlight matching functions.
 */

export interface FlameOptions {
  title?: string;
  /** Sample type by name; the profile's default when absent. */
  sampleType?: string;
  /** Frames narrower than this fraction of the total are merged away (default 0.0005). */
  minFraction?: number;
}

/** Tree node serialized as [nameIndex, value, children]. */
type Node = [number, number, Node[]];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function flameGraphHtml(p: Profile, opts: FlameOptions = {}): string {
  const t = sampleTypeInfo(p, opts.sampleType);
  const names: string[] = [];
  const files: string[] = [];
  const nameIndex = new Map<string, number>();
  const intern = (key: string, name: string, file: string) => {
    let i = nameIndex.get(key);
    if (i === undefined) {
      i = names.length;
      names.push(name);
      files.push(file);
      nameIndex.set(key, i);
    }
    return i;
  };
  type Build = { name: number; value: number; children: Map<number, Build> };
  const root: Build = { name: intern('\0root', 'all', ''), value: 0, children: new Map() };
  forEachStack(p, t.index, (stack, v) => {
    if (v <= 0) return; // a flame graph cannot draw negative (delta) values
    root.value += v;
    let node = root;
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i]!;
      const id = intern(f.key, f.name, f.file);
      let child = node.children.get(id);
      if (!child) node.children.set(id, (child = { name: id, value: 0, children: new Map() }));
      child.value += v;
      node = child;
    }
  });
  const min = root.value * (opts.minFraction ?? 0.0005);
  const toNode = (b: Build): Node => [
    b.name,
    b.value,
    [...b.children.values()].filter((c) => c.value >= min).sort((x, y) => y.value - x.value).map(toNode),
  ];
  const tree = toNode(root);
  const kind = profileKind(p);
  const finding = kind === 'cpu' ? runtimeShare(p).label : (() => {
    const top = topFunction(p, t.type);
    return top ? `top: ${top.name}, ${formatValue(top.value, top.unit)} (${(100 * top.fraction).toFixed(1)}%)` : '';
  })();
  const dur = int64(p.durationNanos);
  const title = opts.title ?? `${kind === 'other' ? 'profile' : kind} flame graph`;
  const subtitle = [
    `${t.type} (${t.unit})`,
    `total ${formatValue(root.value, t.unit)}`,
    dur > 0 ? `over ${formatDuration(Math.round(dur / 1e6) * 1e6)}` : '',
    finding,
  ].filter(Boolean).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 13px/1.4 system-ui, -apple-system, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
#sub { color: #555; margin-bottom: 8px; }
#bar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
#search { width: 280px; padding: 3px 6px; }
#flame { position: relative; width: 100%; overflow: hidden; border-top: 1px solid #ddd; }
.f { position: absolute; height: 17px; box-sizing: border-box; border: 1px solid #fff; border-width: 0 1px 1px 0;
     overflow: hidden; white-space: nowrap; font: 11px/16px ui-monospace, Menlo, monospace; padding-left: 3px;
     cursor: pointer; color: #111; }
.f.dim { opacity: 0.35; }
.f.hit { outline: 2px solid #1f4fd1; outline-offset: -2px; }
#tip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 6px 8px; border-radius: 4px;
       font: 12px/1.4 ui-monospace, Menlo, monospace; display: none; max-width: 640px; z-index: 10; }
#crumbs { color: #555; }
button { font: inherit; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div id="sub">${escapeHtml(subtitle)}</div>
<div id="bar"><input id="search" placeholder="search functions (regexp)"><button id="reset">reset zoom</button><span id="match"></span><span id="crumbs"></span></div>
<div id="flame"></div>
<div id="tip"></div>
<script>
"use strict";
const NAMES = ${scriptJson(names)};
const FILES = ${scriptJson(files)};
const TREE = ${scriptJson(tree)};
const UNIT = ${scriptJson(t.unit)};
const ROW = 17;
const flame = document.getElementById('flame');
const tip = document.getElementById('tip');
function fmt(v) {
  if (UNIT === 'nanoseconds') {
    if (v >= 1e9) return (v / 1e9).toFixed(2) + 's';
    if (v >= 1e6) return (v / 1e6).toFixed(2) + 'ms';
    if (v >= 1e3) return (v / 1e3).toFixed(2) + 'µs';
    return v + 'ns';
  }
  if (UNIT === 'bytes') {
    const u = ['B', 'kB', 'MB', 'GB', 'TB']; let i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(2) : v) + u[i];
  }
  return String(v);
}
function hue(name) {
  if (name.charAt(0) === '(') return 'hsl(210, 15%, 78%)';
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return 'hsl(' + (10 + (h % 45)) + ', ' + (70 + (h >> 8) % 20) + '%, ' + (58 + (h >> 16) % 12) + '%)';
}
let zoom = TREE;
let path = [TREE];
function render() {
  const width = flame.clientWidth || 1000;
  const total = zoom[1];
  const parts = [];
  let depth = 0;
  function place(node, x, d, frac) {
    const w = frac * width;
    if (w < 0.5) return;
    depth = Math.max(depth, d);
    parts.push([node, x, d, w]);
    let cx = x;
    for (const c of node[2]) {
      const cf = c[1] / total;
      place(c, cx, d + 1, cf);
      cx += cf * width;
    }
  }
  // Ancestors of the zoomed frame stay visible above it, full width.
  path.forEach((n, i) => { if (n !== zoom) parts.push([n, 0, i, width]); });
  const base = path.length - 1;
  place(zoom, 0, base, 1);
  flame.style.height = ((Math.max(depth, base) + 1) * ROW + 4) + 'px';
  flame.textContent = '';
  const frag = document.createDocumentFragment();
  for (const [node, x, d, w] of parts) {
    const el = document.createElement('div');
    el.className = 'f';
    el.style.left = x + 'px';
    el.style.top = (d * ROW) + 'px';
    el.style.width = w + 'px';
    el.style.background = hue(NAMES[node[0]]);
    if (w > 30) el.textContent = NAMES[node[0]];
    el._node = node;
    frag.appendChild(el);
  }
  flame.appendChild(frag);
  document.getElementById('crumbs').textContent = path.length > 1 ? 'zoomed: ' + path.map(n => NAMES[n[0]]).join(' > ') : '';
  highlight();
}
function findPath(target, node, acc) {
  acc.push(node);
  if (node === target) return true;
  for (const c of node[2]) if (findPath(target, c, acc)) return true;
  acc.pop();
  return false;
}
flame.addEventListener('click', (e) => {
  const el = e.target.closest('.f');
  if (!el) return;
  const p = [];
  findPath(el._node, TREE, p);
  zoom = el._node; path = p;
  render();
});
flame.addEventListener('mousemove', (e) => {
  const el = e.target.closest('.f');
  if (!el) { tip.style.display = 'none'; return; }
  const n = el._node;
  const file = FILES[n[0]];
  tip.textContent = NAMES[n[0]] + (file ? '\\n' + file : '') + '\\n' + fmt(n[1]) + ' (' + (100 * n[1] / TREE[1]).toFixed(2) + '% of all, ' + (100 * n[1] / zoom[1]).toFixed(2) + '% of view)';
  tip.style.whiteSpace = 'pre';
  tip.style.display = 'block';
  tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 360) + 'px';
  tip.style.top = (e.clientY + 14) + 'px';
});
flame.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
document.getElementById('reset').addEventListener('click', () => { zoom = TREE; path = [TREE]; render(); });
const search = document.getElementById('search');
function highlight() {
  let re = null;
  try { re = search.value ? new RegExp(search.value, 'i') : null; } catch (e) { re = null; }
  let hits = 0;
  for (const el of flame.children) {
    const on = re ? re.test(NAMES[el._node[0]]) : false;
    el.classList.toggle('hit', on);
    el.classList.toggle('dim', !!re && !on);
    if (on) hits++;
  }
  document.getElementById('match').textContent = re ? hits + ' frames match' : '';
}
search.addEventListener('input', highlight);
window.addEventListener('resize', render);
render();
</script>
</body>
</html>
`;
}
