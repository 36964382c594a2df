import { UsageError } from '../errors.js';
import type { PacerSpec } from '../pacer/pacer.js';
import { formatRfc3339Nano } from '../results/timestamp.js';
import { wallClockNs } from '../time/wall.js';

/**
 * `tailprobe k8s job`: one schedule split across N pods by Kubernetes' own engine, an Indexed Job.
 * Pod K (its completion index, JOB_COMPLETION_INDEX) runs `tailprobe attack -shard=K/N
 * -start-at=T` with the same T in every pod, so the pods together send the one schedule (see
 * src/pacer/shard.ts). Nothing here talks to a cluster: this builds the manifest (a ConfigMap with
 * the targets and the Job), which `kubectl apply -f` takes. docs/distributed.md walks through it.
 */
export interface K8sJobOptions {
  /** Job name (a DNS label); the ConfigMap is `<name>-targets`. */
  name: string;
  namespace?: string;
  /** Container image with tailprobe on its PATH (docs/distributed.md builds one). */
  image: string;
  /** N: pods, and shards of the schedule. */
  shards: number;
  /** The targets file's text (vegeta http or json format), mounted at TARGETS_PATH. */
  targetsText: string;
  targetsFormat: 'http' | 'json';
  /**
   * The attack's own flags (rate, duration, pacer, timeouts, ...), as `tailprobe attack` takes them;
   * the manifest adds -targets, -format, -shard, -start-at, -output and -quiet.
   */
  attackArgs: string[];
  /** The schedule (from attackArgs), for resource requests: the highest rate it asks. */
  pacer: PacerSpec;
  /** The attack's -duration, ns (must be > 0: a Job must end). */
  durationNs: number;
  /**
   * The attack's -timeout, ns (default 30 s; 0 = none, counted as 30 s): how long the requests in
   * flight at the end may still take, so part of the Job's deadline.
   */
  timeoutNs?: number;
  /**
   * The attack's -drain, ns (default 5 s): how long a stopped pod's requests in flight may take
   * before it writes its results, so the pod's grace period between SIGTERM and SIGKILL exceeds it.
   */
  drainNs?: number;
  /** The agreed start, ns since the epoch. */
  startAtNs: bigint;
  /**
   * Where results go: 'logs' (each pod prints its binary results file as base64 after a marker line,
   * collected with `kubectl logs`), or 'volume' (written to /results/shard-K.bin on a
   * PersistentVolumeClaim that every pod can mount, ReadWriteMany).
   */
  collect: 'logs' | 'volume';
  volumeClaim?: string;
  /** Worker threads per pod (0: from the rate, one per 5000 req/s). */
  workers?: number;
}

export const TARGETS_DIR = '/etc/tailprobe';
export const TARGETS_PATH = `${TARGETS_DIR}/targets.txt`;
export const RESULTS_DIR = '/results';
/** The line after which a pod's log is its results file in base64 (logs collection). */
export const RESULTS_MARKER = '--- tailprobe results (base64) ---';
/** The env var Kubernetes sets to a pod's completion index in an Indexed Job. */
export const INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** One worker thread (one core) per this many requests per second (defaultWorkers' rule). */
const RATE_PER_CORE = 5000;

/** The highest rate a schedule asks for, req/s. */
export function peakRate(p: PacerSpec): number {
  switch (p.kind) {
    case 'constant':
      return p.perSec;
    case 'linear':
      return Math.max(p.fromPerSec, p.toPerSec);
    case 'sine':
      return p.meanPerSec + p.ampPerSec;
  }
}

/**
 * Requests and limits for one pod sending `perPodRate` req/s at its peak: a core per 5,000 req/s
 * (at least a quarter core), 256 MiB plus 64 MiB per 1,000 req/s (connections, results buffers), and
 * a memory limit of twice that. No CPU limit: CFS throttling would stall the generator for whole
 * periods, and those stalls would show up as the target's tail.
 */
export function podResources(perPodRate: number): { requests: { cpu: string; memory: string }; limits: { memory: string } } {
  const milli = Math.max(250, Math.ceil((perPodRate / RATE_PER_CORE) * 10) * 100);
  const mem = 256 + Math.ceil(perPodRate / 1000) * 64;
  return { requests: { cpu: `${milli}m`, memory: `${mem}Mi` }, limits: { memory: `${mem * 2}Mi` } };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/;

/** The tailprobe arguments of pod K: what the container runs, with $(JOB_COMPLETION_INDEX) for K. */
export function podArgs(o: K8sJobOptions): string[] {
  const perPod = peakRate(o.pacer) / o.shards;
  const workers = o.workers || Math.max(1, Math.ceil(perPod / RATE_PER_CORE));
  const args = [
    'attack',
    ...o.attackArgs,
    `-targets=${TARGETS_PATH}`,
    `-format=${o.targetsFormat}`,
    `-workers=${workers}`,
    `-shard=$(${INDEX_ENV})/${o.shards}`,
    `-start-at=${formatRfc3339Nano(o.startAtNs)}`,
    '-quiet',
  ];
  if (o.collect === 'volume') args.push(`-output=${RESULTS_DIR}/shard-$(${INDEX_ENV}).bin`);
  return args;
}

/** The manifest: a List of the targets ConfigMap and the Indexed Job, as plain JSON (kubectl reads JSON and YAML). */
export function k8sJobManifest(o: K8sJobOptions): { apiVersion: 'v1'; kind: 'List'; items: object[] } {
  if (!DNS_LABEL.test(o.name)) throw new UsageError(`k8s job: invalid -name "${o.name}" (lowercase letters, digits and '-', at most 52)`);
  if (!Number.isInteger(o.shards) || o.shards < 1 || o.shards > 10000) throw new UsageError(`k8s job: -shards must be an integer 1..10000 (got ${o.shards})`);
  if (!o.image) throw new UsageError('k8s job: -image is required (an image with tailprobe on its PATH; see docs/distributed.md)');
  if (!(o.durationNs > 0)) throw new UsageError('k8s job: the attack needs a -duration (a Job must end)');
  if (o.collect === 'volume' && !o.volumeClaim) throw new UsageError('k8s job: -collect=volume needs -volume-claim=NAME (a ReadWriteMany PersistentVolumeClaim)');
  if (o.targetsFormat === 'http' && /^\s*@/m.test(o.targetsText)) {
    throw new UsageError('k8s job: targets with @body files cannot be shipped in the ConfigMap; use -format=json targets (bodies inline, base64)');
  }
  const ns = o.namespace ? { namespace: o.namespace } : {};
  const labels = { 'app.kubernetes.io/name': 'tailprobe', 'app.kubernetes.io/instance': o.name };
  const leadS = Math.max(0, Math.ceil(Number(o.startAtNs - wallClockNs()) / 1e9));
  // Time to start, run and let the last requests time out, with a margin: a pod that hangs ends.
  const timeoutS = o.timeoutNs === undefined || o.timeoutNs <= 0 ? 30 : Math.ceil(o.timeoutNs / 1e9);
  const deadlineS = leadS + Math.ceil(o.durationNs / 1e9) + timeoutS + 120;
  // SIGTERM (Job deleted, deadline reached) to SIGKILL: the drain, then 30 s to write and print the
  // results (Kubernetes' default grace period is 30 s, shorter than a long -drain).
  const graceS = Math.max(30, Math.ceil((o.drainNs ?? 5e9) / 1e9) + 30);
  const mounts: object[] = [{ name: 'targets', mountPath: TARGETS_DIR, readOnly: true }];
  const volumes: object[] = [{ name: 'targets', configMap: { name: `${o.name}-targets` } }];
  if (o.collect === 'volume') {
    mounts.push({ name: 'results', mountPath: RESULTS_DIR });
    volumes.push({ name: 'results', persistentVolumeClaim: { claimName: o.volumeClaim! } });
  }
  // sh is the container's PID 1, which the kernel spares every signal it has no handler for: without
  // the trap, the kubelet's SIGTERM (Job deleted, deadline reached) never reaches tailprobe, which is
  // SIGKILLed at the end of the grace period with nothing printed. The trap passes it on; tailprobe
  // stops, writes its results, and the script prints them (wait returns early on a trapped signal,
  // so it waits again until tailprobe has exited).
  const script =
    `tailprobe "$@" -output=/tmp/shard.bin & pid=$!; trap 'kill -TERM $pid 2>/dev/null' TERM INT; ` +
    `wait $pid; rc=$?; while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done; ` +
    `echo '${RESULTS_MARKER}'; base64 /tmp/shard.bin; exit $rc`;
  const container = {
    name: 'tailprobe',
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    ...(o.collect === 'logs' ? { command: ['sh', '-c', script, 'tailprobe'] } : { command: ['tailprobe'] }),
    args: podArgs(o),
    env: [
      // Kubernetes sets it in Indexed Jobs; declared here too so $(JOB_COMPLETION_INDEX) in args expands.
      { name: INDEX_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    ],
    resources: podResources(peakRate(o.pacer) / o.shards),
    volumeMounts: mounts,
  };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${o.name}-targets`, ...ns, labels },
    data: { 'targets.txt': o.targetsText },
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, ...ns, labels },
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism: o.shards,
      // A retried pod would start after -start-at (and refuse to run): no retries. Per index: with
      // backoffLimit: 0 the first pod to fail (an -slo verdict, exit 99) failed the whole Job, and
      // Kubernetes then killed every other shard mid-run. Now a failed pod is one missing shard; the
      // Job still ends Failed (backoffLimit defaults to "unlimited" beside it). Kubernetes 1.29+.
      backoffLimitPerIndex: 0,
      activeDeadlineSeconds: deadlineS,
      // Keep finished pods (and their logs) for a day.
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: graceS,
          // One generator per node where the cluster allows: pods on one node share its CPU and NIC.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: labels } } },
              ],
            },
          },
          containers: [container],
          volumes,
        },
      },
    },
  };
  return { apiVersion: 'v1', kind: 'List', items: [configMap, job] };
}
