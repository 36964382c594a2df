import { resolve } from 'node:path';
import { EXIT_SLO_FAILED, UsageError } from '../../errors.js';
import { runDemo } from '../../demo/index.js';
import type { Command } from '../command.js';

/**
 * `tailprobe demo`: the user story end to end on the bundled lookup service. A thin shell over
 * runDemo (src/demo): flags in, narration out, the exit code.
 */
export const command: Command = {
  spec: {
    name: 'demo',
    summary: 'Run the whole investigation on a real service: reproduce a fat p99, profile, fix, prove',
    usage: '[flags]',
    description:
      'Starts the bundled lookup service (examples/lookup) with two faults: a fresh response buffer per\n' +
      'request (allocation pressure) and one Mutex held across awaits on a read-mostly table (lock contention).\n' +
      'Attacks it at a constant rate calibrated to this machine, profiles it under load through the tailprobe\n' +
      'agent, fixes the loudest cost (BufferPool), re-measures, finds the lock in the block profile, fixes it\n' +
      '(RWMutex), and proves both fixes with compare and an HTML plot. Everything it says about causes is\n' +
      'computed from what it measured. Outputs (results, profiles, compare.txt, report.html, summary.json)\n' +
      'go to one folder, named at the end.',
    flags: [
      { name: 'quick', type: 'bool', help: 'the short version: about a minute (CI, README)' },
      { name: 'sweep', type: 'bool', help: 'also sweep the rate on the broken and the fixed service (the knee)' },
      { name: 'out', type: 'string', value: 'DIR', help: 'output folder (default ./tailprobe-demo-<timestamp>)' },
      { name: 'rate', type: 'string', default: 'auto', help: 'requests per second, or auto to calibrate to this machine' },
      { name: 'duration', type: 'duration', help: 'length of each measured run (default 15s, 5s with -quick)' },
      { name: 'entries', type: 'int', help: "the service's table size (default 300000; Go: 200000)" },
      { name: 'service', type: 'string', default: 'node', help: 'which lookup service: node (examples/lookup) or go (examples/lookup-go, built with the local Go toolchain)' },
    ],
    examples: ['tailprobe demo', 'tailprobe demo -quick', 'tailprobe demo -rate=500 -duration=30s -out=demo-out', 'tailprobe demo -service=go -quick'],
  },

  async run(args, io) {
    const rateText = args.string('rate').trim().toLowerCase();
    let rate: number | 'auto' = 'auto';
    if (rateText !== 'auto') {
      const n = Number(rateText.replace(/\/1?s$/, ''));
      if (!/^\d+(\.\d+)?(\/1?s)?$/.test(rateText) || !(n > 0)) throw new UsageError(`demo: invalid -rate "${args.string('rate')}": expected auto or requests per second, e.g. 300`);
      rate = n;
    }
    if (args.has('duration') && !(args.number('duration') >= 1e9)) throw new UsageError('demo: -duration must be at least 1s');
    if (args.has('entries') && !(args.number('entries') >= 1000)) throw new UsageError('demo: -entries must be at least 1000');
    if (args.positionals.length) throw new UsageError(`demo: unexpected argument "${args.positionals[0]}"`);
    const service = args.string('service').trim().toLowerCase();
    if (service !== 'node' && service !== 'go') throw new UsageError(`demo: invalid -service "${args.string('service')}": expected node or go`);

    const stop = new AbortController();
    let signals = 0;
    const onSignal = () => {
      signals++;
      if (signals === 1) stop.abort();
      else process.exit(130); // the 'exit' hook still kills the service
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
    const live = stderr.isTTY === true;
    try {
      const { summary } = await runDemo({
        quick: args.bool('quick'),
        sweep: args.bool('sweep'),
        outDir: args.string('out') ? resolve(args.string('out')) : undefined,
        rate,
        durationNs: args.has('duration') ? args.number('duration') : undefined,
        entries: args.has('entries') ? args.number('entries') : undefined,
        service,
        signal: stop.signal,
        log: (line) => io.stdout.write(`${line}\n`),
        status: live ? (line) => stderr.write(line === null ? '\r\x1b[K' : `\r${line.slice(0, 160)}\x1b[K`) : undefined,
      });
      if (summary.status === 'interrupted') return 130;
      // The story's claims are a gate: a run that does not show them all does not pass quietly.
      const failed = summary.checks.filter((c) => !c.pass).length;
      if (failed > 0) {
        stderr.write(`tailprobe: demo: ${failed} of ${summary.checks.length} checks did not hold on this machine (NOT SHOWN above): exit status ${EXIT_SLO_FAILED}\n`);
        return EXIT_SLO_FAILED;
      }
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
