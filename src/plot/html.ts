import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRun, encodeSweep, type PlotData } from './encode.js';
import type { RunPlot } from './run.js';
import { escapeHtml, parametersTable, summaryTable, sweepTable, warningsHtml } from './summary.js';
import type { SweepPlot } from './sweep.js';

/**
 * Assembles the self-contained report page: uPlot (script and CSS), the page script, the data and
 * the summary tables, all inline. A Content-Security-Policy of `default-src 'none'` makes the
 * browser refuse any network access the page might attempt, so opening it never leaves the machine.
 */
export interface PlotRenderOptions {
  title?: string;
  /** Initial latency axis. Default 'log'. */
  yScale?: 'log' | 'linear';
  /** Shown in the page footer (defaults to now). */
  generatedAt?: Date;
  /** Slow requests drawn per run in the explain lane at most (the slowest; default MAX_BREAKDOWN_BARS, 5000). */
  breakdownBars?: number;
}

let assets: { uplotJs: string; uplotCss: string; app: string } | null = null;

function loadAssets(): { uplotJs: string; uplotCss: string; app: string } {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  const uplotDir = join(dirname(require.resolve('uplot/package.json')), 'dist');
  const here = dirname(fileURLToPath(import.meta.url));
  // Source-map comments would point the browser's devtools at files that are not there.
  const strip = (s: string) => s.replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  assets = {
    uplotJs: strip(readFileSync(join(uplotDir, 'uPlot.iife.min.js'), 'utf8')),
    uplotCss: readFileSync(join(uplotDir, 'uPlot.min.css'), 'utf8'),
    app: strip(joinClientModules(join(here, 'client'), 'app.js')),
  };
  return assets;
}

const RELATIVE_IMPORT = /^import\s[^;]*?from\s*'\.\/([\w-]+\.js)';$/gm;
const TOP_LEVEL_NAME = /^(?:async\s+)?(?:function\*?|const|let|var|class)\s+([\w$]+)/gm;

/**
 * The page script as one script: the compiled client/app.js and the client modules it imports,
 * dependencies first, with their relative imports removed and their exports made plain
 * declarations (the page's modules import one another by name, never `as` another name). Joined,
 * they share one scope, so a top-level name may be declared by one module only: a second one is an
 * error here rather than a SyntaxError in the browser.
 */
export function joinClientModules(dir: string, entry: string): string {
  const order: string[] = [];
  const text = new Map<string, string>();
  const visit = (file: string, path: string[]) => {
    if (path.includes(file)) throw new Error(`plot client: import cycle ${[...path, file].join(' -> ')}`);
    if (text.has(file)) return;
    const src = readFileSync(join(dir, file), 'utf8');
    text.set(file, src);
    for (const m of src.matchAll(RELATIVE_IMPORT)) visit(m[1]!, [...path, file]);
    order.push(file);
  };
  visit(entry, []);
  const declaredIn = new Map<string, string>();
  return order
    .map((file) => {
      const body = text
        .get(file)!
        .replace(RELATIVE_IMPORT, '')
        .replace(/^export \{\};$/gm, '')
        .replace(/^export (?=(?:async\s+)?(?:function|const|let|var|class)\b)/gm, '');
      for (const m of body.matchAll(TOP_LEVEL_NAME)) {
        const first = declaredIn.get(m[1]!);
        if (first) throw new Error(`plot client: ${m[1]} is declared by both ${first} and ${file}`);
        declaredIn.set(m[1]!, file);
      }
      return `// ${file}\n${body}`;
    })
    .join('\n');
}

/** Text that can sit inside a <script> element without ending it. */
function scriptSafe(s: string): string {
  return s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function renderPlotHtml(runs: RunPlot[], sweep: SweepPlot | null, opts: PlotRenderOptions = {}): string {
  const a = loadAssets();
  const title = opts.title ?? (runs.length === 1 ? `tailprobe: ${runs[0]!.name}` : 'tailprobe plot');
  const data: PlotData = {
    version: 1,
    title,
    yScale: opts.yScale ?? 'log',
    runs: runs.map((r) => encodeRun(r, { breakdownBars: opts.breakdownBars })),
    sweep: sweep ? encodeSweep(sweep) : null,
  };
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const generated = (opts.generatedAt ?? new Date()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const subtitle = [
    runs.length ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : '',
    sweep ? `sweep of ${sweep.steps.length} steps` : '',
    `generated ${generated}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const tables = runs.length
    ? `<section class="summary"><div class="tables">
<div><h2>Summary</h2><p class="note">As <code>tailprobe report</code> prints them: HDR histograms of every request.</p>
${warningsHtml(runs)}${summaryTable(runs)}</div>
<div><h2>Run parameters</h2><p class="note">From the results file${runs.length > 1 ? 's' : ''}.</p>
${parametersTable(runs)}</div>
</div></section>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tailprobe plot">
<title>${escapeHtml(title)}</title>
<style>${a.uplotCss}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><p class="sub">${escapeHtml(subtitle)}</p></header>
<main>
${tables}
<div id="tp-charts"></div>
${sweep ? `<template id="tp-sweep-template">${sweepTable(sweep)}</template>` : ''}
</main>
<footer>tailprobe plot · open model: latency counts from each request's intended send time · no network access</footer>
<script id="tp-data" type="application/json">${json}</script>
<script>${scriptSafe(a.uplotJs)}</script>
<script type="module">${scriptSafe(a.app)}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d8dee4; --bg: #ffffff; --panel: #f6f8fa; --tail: #b35900; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0; font-weight: 600; }
.sub { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
main { padding: 8px 28px 24px; max-width: 1400px; }
h2 { font-size: 16px; margin: 22px 0 8px; font-weight: 600; display: flex; align-items: center; gap: 8px; }
h3 { font-size: 13px; margin: 0; font-weight: 600; }
.note { color: var(--muted); font-size: 12px; margin: 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--panel); padding: 1px 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
thead th { border-bottom: 1px solid var(--line); font-weight: 600; }
tbody th { font-weight: 500; color: var(--fg); white-space: nowrap; }
tbody tr.sub th { font-weight: 400; color: var(--muted); padding-left: 14px; }
tbody tr.group th { padding-top: 6px; }
td { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; min-width: 100px; max-width: 420px; }
tr.errors td, table.parameters td { overflow-wrap: anywhere; }
tr.tail td { color: var(--tail); font-weight: 600; }
tr.errors td { color: #c92a2a; max-width: 560px; }
tr.errors td.none { color: var(--muted); }
table.summary tbody tr:nth-child(odd), table.parameters tbody tr:nth-child(odd) { background: #fbfcfd; }
.tables { display: flex; flex-wrap: wrap; gap: 8px 48px; align-items: flex-start; }
.tables > div { max-width: 100%; min-width: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
section.run, section.dist, section.sweep, section.runs-overlay { border-top: 1px solid var(--line); margin-top: 18px; }
.swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.toolbar { display: flex; gap: 8px; align-items: center; margin: 0 0 6px; flex-wrap: wrap; }
.toolbar button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); cursor: pointer; }
.toolbar button:hover { background: #eef1f4; }
.hint { color: var(--muted); font-size: 12px; }
.chart { margin: 8px 0 4px; }
.chart-head { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; margin-bottom: 2px; }
.chart.events { margin-top: -2px; }
.chart-body { width: 100%; }
.u-legend { font-size: 12px; text-align: left; padding-left: 70px; }
.u-legend .u-marker { width: 10px; height: 10px; }
.event-caption { color: #c2255c; font-weight: 500; }
.breakdown-caption { color: var(--fg); font: 12px/16px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; min-height: 32px; margin-top: 2px; }
.breakdown-head p.verdict { margin: 2px 0; font-weight: 600; }
.breakdown-head p.limit { color: #8a6d00; }
pre.error { color: #c92a2a; background: #fff5f5; padding: 8px; }
table.sweep-steps td { min-width: 80px; }
table.sweep-steps td.breach { color: #c92a2a; font-weight: 600; }
table.sweep-steps tr.knee td { background: #e7f5ff; }
ul.warnings { margin: 6px 0; padding: 6px 10px 6px 26px; background: #fff9db; border: 1px solid #ffe066; border-radius: 4px; max-width: 760px; font-size: 13px; }
footer { padding: 10px 28px 22px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); }
`;
