export {
  prometheusAttackPlugin, parseListenAddress, PROMETHEUS_GUARD, type PrometheusOptions, type PrometheusPlugin,
} from './prometheus.js';
export { Exposition, BUCKET_BOUNDS_S, BUCKET_QUANTILE_ERROR, BUCKETS_PER_DOUBLING } from './exposition.js';
export { hlogAttackPlugin, type HlogPluginOptions } from './hlog.js';
