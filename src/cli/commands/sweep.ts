import { EXIT_SLO_FAILED, UsageError } from '../../errors.js';
import { parseSloFlags } from '../../slo/index.js';
import { SLO_FLAG } from '../slo-flags.js';
import { formatSweep, parseRates, sweep, sweepJson, type SweepStep } from '../../sweep/index.js';
import { formatDuration } from '../../units/duration.js';
import type { Command } from '../command.js';
import { attackFlags, connectionOptions, readTargetFlags } from './attack.js';
import { openOutput } from '../output.js';

/** `tailprobe sweep`: a thin shell over sweep() (src/sweep). */
export const command: Command = {
  spec: {
    name: 'sweep',
    summary: 'Step the rate up and find the knee: where the tail breaks',
    usage: '-rates=RATES [flags]',
    description: [
      'Attacks the targets (stdin or -targets, as attack) at each rate of -rates for -step-duration,',
      'after an unmeasured -warmup at that rate, and prints rate against achieved rate, p50, p90, p99,',
      'p99.9, max and errors. The knee is the highest rate at which -slo held, or, without an SLO, the',
      'rate after which p99 stops growing gently and explodes. Stops early once the tail has clearly',
      'broken (-stop-after steps in a row missing the SLO by -break-factor, or with -break-errors of',
      'requests failing). -out=DIR keeps each step\'s results and DIR/sweep.json (what `plot` draws).',
      'Exit 99 when the SLO held at no rate, or the knee is below -min-knee. See docs/compare.md.',
    ].join('\n'),
    flags: [
      { name: 'rates', type: 'string', value: 'RATES', help: "Rates to step through: START:STOP:STEP (100:2000:100), a list (100,200,400), auto or auto:START:MAX" },
      { name: 'step-duration', type: 'duration', default: '5s', aliases: ['duration'], help: 'Measured length of each step' },
      { name: 'warmup', type: 'duration', default: '1s', help: 'Unmeasured lead-in of each step, at its rate' },
      { ...SLO_FLAG, help: "SLO each step is judged by, e.g. 'p99<50ms,success>=99.9%'; the knee is the highest rate where it held" },
      { name: 'min-knee', type: 'float', default: 0, value: 'RATE', help: 'Exit 99 when the knee is below this rate (a capacity gate for CI)' },
      { name: 'out', type: 'string', value: 'DIR', help: "Write each step's results (binary) and sweep.json into DIR" },
      { name: 'json', type: 'bool', help: 'Print the sweep as JSON (the sweep.json document)' },
      { name: 'stop-after', type: 'int', default: 2, help: 'Stop after this many clearly broken steps in a row' },
      { name: 'break-factor', type: 'float', default: 2, help: 'A step missing its SLO by this factor has clearly broken' },
      { name: 'break-errors', type: 'float', default: 0.1, help: 'A step with this share of failed requests has clearly broken' },
      { name: 'precision', type: 'float', default: 0.05, help: 'With -rates=auto: stop bisecting when the knee is known within this fraction' },
      // The flags a step's attack takes, as attack defines them.
      ...attackFlags('targets', 'format', 'header', 'timeout', 'connections', 'max-connections', 'workers', 'keepalive', 'http2', 'h2c', 'insecure', 'name', 'quiet'),
    ],
    examples: [
      "echo 'GET http://127.0.0.1:8080/api' | tailprobe sweep -rates=100:2000:100 -step-duration=5s -slo='p99<50ms'",
      "tailprobe sweep -targets=t.txt -rates=auto -slo='p99<50ms,success>=99.9%' -out=sweep/ && tailprobe plot sweep/sweep.json",
    ],
  },
  async run(args, io) {
    if (!args.string('rates')) throw new UsageError('sweep: -rates is required (e.g. -rates=100:2000:100 or -rates=auto)');
    const rates = parseRates(args.string('rates'));
    const slo = parseSloFlags(args.list('slo'));
    const stepNs = args.number('step-duration');
    const warmupNs = args.number('warmup');
    if (!(stepNs > 0)) throw new UsageError('sweep: -step-duration must be positive');
    if (warmupNs < 0) throw new UsageError('sweep: -warmup cannot be negative');
    const stopAfter = args.number('stop-after');
    if (stopAfter < 1) throw new UsageError('sweep: -stop-after must be at least 1');
    const breakFactor = args.number('break-factor');
    if (!(breakFactor > 1)) throw new UsageError('sweep: -break-factor must be above 1');
    const breakErrors = args.number('break-errors');
    if (!(breakErrors > 0 && breakErrors <= 1)) throw new UsageError('sweep: -break-errors must be in (0, 1]');
    const precision = args.number('precision');
    if (!(precision > 0 && precision < 1)) throw new UsageError('sweep: -precision must be in (0, 1)');
    const minKnee = args.number('min-knee');
    if (minKnee > 0 && !slo) throw new UsageError('sweep: -min-knee needs -slo (the knee it gates is where the SLO holds)');
    const { targets, headers } = await readTargetFlags(args, io);

    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const res = await sweep({
        attack: {
          targets,
          headers,
          ...connectionOptions(args),
          workers: args.number('workers'),
          signal: stop.signal,
        },
        rates,
        stepNs,
        warmupNs,
        slo,
        stopAfter,
        breakFactor,
        breakErrors,
        precision,
        outDir: args.string('out') || undefined,
        signal: stop.signal,
        onStep: args.bool('quiet') ? undefined : (s) => io.stderr.write(progressLine(s, stepNs)),
      });
      const out = await openOutput('sweep', 'stdout', io);
      out.stream.write(args.bool('json') ? `${JSON.stringify(sweepJson(res), null, 2)}\n` : formatSweep(res));
      await out.close();
      if (slo && (res.knee === null || res.knee < minKnee)) {
        io.stderr.write(
          res.knee === null
            ? `tailprobe: sweep: SLO ${slo.text} held at no rate tried (exit ${EXIT_SLO_FAILED})\n`
            : `tailprobe: sweep: knee ${res.knee} req/s is below -min-knee=${minKnee} (exit ${EXIT_SLO_FAILED})\n`,
        );
        return EXIT_SLO_FAILED;
      }
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

function progressLine(s: SweepStep, stepNs: number): string {
  const p99 = s.requests ? formatDuration(Number(s.p99.toPrecision(3))) : '-';
  const verdict = s.pass === null ? '' : s.pass ? ' pass' : s.broken ? ' FAIL (broken)' : ' FAIL';
  return `sweep: step ${s.index}: ${s.rate}/s for ${formatDuration(stepNs)}: p99 ${p99}, ${Number((s.success * 100).toFixed(2))}% ok${verdict}\n`;
}
