import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { k8sJobManifest } from '../../distribute/k8s.js';
import { parseTargets } from '../../targets/parse.js';
import { wallClockNs } from '../../time/wall.js';
import type { Command } from '../command.js';
import { parseArgs } from '../flags.js';
import { openOutput } from '../output.js';
import { parseStartAt } from '../shard-flags.js';
import { buildPacer, command as attackCommand } from './attack.js';

/** Attack flags the manifest sets itself, per pod. */
const OWN = ['targets', 'format', 'shard', 'start-at', 'output', 'o', 'workers', 'quiet', 'q'];

/** `tailprobe k8s job`: a thin shell over k8sJobManifest (src/distribute). */
export const command: Command = {
  spec: {
    name: 'k8s',
    summary: 'Write a Kubernetes Indexed Job that runs one schedule as N shards (one per pod)',
    usage: 'job [flags] -- [attack flags]',
    description: [
      'Writes a manifest (a ConfigMap with the targets, and an Indexed Job of N pods) for',
      '`kubectl apply -f`. Pod K runs `tailprobe attack -shard=K/N -start-at=T [attack flags]`, K from',
      'JOB_COMPLETION_INDEX and the same T in every pod (now + -start-in, so the pods have time to be',
      'scheduled and pull the image), so together they send the one schedule. Results: each pod prints',
      'its results file as base64 to its log (-collect=logs), or writes /results/shard-K.bin to a',
      'ReadWriteMany volume (-collect=volume). Merge them with `tailprobe report DIR`. See docs/distributed.md.',
    ].join('\n'),
    flags: [
      { name: 'shards', type: 'int', default: 0, value: 'N', help: 'Pods, and shards of the schedule (required)' },
      { name: 'image', type: 'string', value: 'IMAGE', help: 'Container image with tailprobe on its PATH (required)' },
      { name: 'name', type: 'string', default: 'tailprobe', help: 'Job name (the ConfigMap is NAME-targets)' },
      { name: 'namespace', type: 'string', help: 'Namespace of the Job and ConfigMap (default: kubectl\'s)' },
      { name: 'targets', type: 'string', value: 'FILE', help: 'Targets file, shipped in the ConfigMap (required)' },
      { name: 'format', type: 'string', default: 'http', help: 'Targets format: http or json' },
      { name: 'start-in', type: 'duration', default: '2m', help: 'The agreed start: this long after the manifest is written' },
      { name: 'start-at', type: 'string', value: 'TIME', help: 'The agreed start as an RFC 3339 time (instead of -start-in)' },
      { name: 'collect', type: 'string', default: 'logs', value: 'logs|volume', help: 'Results to the pod logs (base64) or to a volume' },
      { name: 'volume-claim', type: 'string', value: 'NAME', help: 'PersistentVolumeClaim for -collect=volume (ReadWriteMany)' },
      { name: 'workers', type: 'int', default: 0, help: 'Worker threads per pod [0 = one per 5000 req/s of the pod\'s share]' },
      { name: 'output', aliases: ['o'], type: 'string', default: 'stdout', value: 'FILE', help: 'Write the manifest to FILE' },
    ],
    examples: [
      'tailprobe k8s job -shards=4 -image=registry.example/tailprobe:0.1.0 -targets=targets.txt -- -rate=2000 -duration=5m > job.json',
      'kubectl apply -f job.json',
    ],
  },
  async run(args, io) {
    const [sub, ...attackArgs] = args.positionals;
    if (sub !== 'job') throw new UsageError(`k8s: unknown action "${sub ?? ''}" (want: tailprobe k8s job ...)`);
    const shards = args.number('shards');
    if (!args.has('shards')) throw new UsageError('k8s job: -shards=N is required');
    const file = args.string('targets');
    if (!file) throw new UsageError('k8s job: -targets=FILE is required (it is shipped to the pods in a ConfigMap)');
    const format = args.string('format');
    if (format !== 'http' && format !== 'json') throw new UsageError(`k8s job: invalid -format "${format}" (want http or json)`);
    const collect = args.string('collect');
    if (collect !== 'logs' && collect !== 'volume') throw new UsageError(`k8s job: invalid -collect "${collect}" (want logs or volume)`);
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    parseTargets(text, format, file); // a bad target fails here, not in N pods

    // The attack flags, checked as `tailprobe attack` checks them.
    for (const a of attackArgs) {
      const name = /^--?([^=]+)/.exec(a)?.[1];
      if (name && OWN.includes(name)) throw new UsageError(`k8s job: -${name} is set per pod by the manifest; leave it out of the attack flags`);
    }
    const attack = parseArgs(attackCommand.spec, attackArgs);
    if (attack.positionals.length > 0) throw new UsageError(`k8s job: unexpected argument "${attack.positionals[0]}" in the attack flags`);
    const pacer = buildPacer(attack);
    if (!pacer) throw new UsageError('k8s job: -shard splits a schedule: max mode (-rate=0) has none');

    const startAtNs = args.string('start-at') ? parseStartAt(args.string('start-at')) : wallClockNs() + BigInt(Math.round(args.number('start-in')));
    if (startAtNs <= wallClockNs()) throw new UsageError('k8s job: the start must be in the future');
    const manifest = k8sJobManifest({
      name: args.string('name'),
      ...(args.string('namespace') ? { namespace: args.string('namespace') } : {}),
      image: args.string('image'),
      shards,
      targetsText: text,
      targetsFormat: format,
      attackArgs,
      pacer: pacer.spec,
      durationNs: attack.number('duration'),
      timeoutNs: attack.number('timeout'),
      drainNs: attack.number('drain'),
      startAtNs,
      collect,
      ...(args.string('volume-claim') ? { volumeClaim: args.string('volume-claim') } : {}),
      workers: args.number('workers'),
    });
    const json = `${JSON.stringify(manifest, null, 2)}\n`;
    // The one output helper: a manifest that could not be written (a full disk, even on stdout) is one line and exit 1.
    const output = await openOutput('k8s', args.string('output'), io);
    output.stream.write(json);
    await output.close();
    return 0;
  },
};
