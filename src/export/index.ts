export {
  prometheusAttackPlugin, parseListenAddress, PROMETHEUS_GUARD, type PrometheusOptions, type PrometheusPlugin,
} from './prometheus.js';
export {
  Exposition, BUCKET_BOUNDS_S, BUCKET_QUANTILE_ERROR, BUCKETS_PER_DOUBLING, NATIVE_SCHEMA, NATIVE_QUANTILE_ERROR,
  nativeIndex, wantsProtobuf, TEXT_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE,
} from './exposition.js';
export { hlogAttackPlugin, type HlogPluginOptions } from './hlog.js';
