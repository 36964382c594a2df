/** `tailprobe plot`: self-contained HTML pictures of the tail (see docs/plot.md). */
export { plotHtml, aggregateRun, type PlotOptions, type PlotRunInput, type PlotExplainOptions } from './plot.js';
export { RunAggregator, type RunPlot, type RunAggregateOptions } from './run.js';
export { LatencyDownsampler, PointGrid, type DownsampleOptions, type DownsampledPoints, type PointSet } from './downsample.js';
export { TimeSeriesBuilder, type TimeSeries, type TimeSeriesOptions } from './timeseries.js';
export { percentileDistribution, type DistributionPoints } from './distribution.js';
export { parseSweepPlot, isSweepPlotDocument, type SweepPlot, type SweepPlotStep, type SweepPlotLimit } from './sweep.js';
export { renderPlotHtml, type PlotRenderOptions } from './html.js';
export { encodeBreakdown, MAX_BREAKDOWN_BARS, type PlotData, type EncodedRun, type EncodedBreakdown } from './encode.js';
