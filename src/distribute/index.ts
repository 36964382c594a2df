/** Running one schedule on many generators: manifests for engines that start them (Kubernetes). */
export {
  k8sJobManifest, podArgs, podResources, peakRate, type K8sJobOptions,
  TARGETS_DIR, TARGETS_PATH, RESULTS_DIR, RESULTS_MARKER, INDEX_ENV,
} from './k8s.js';
