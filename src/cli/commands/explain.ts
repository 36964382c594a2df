import { UsageError } from '../../errors.js';
import {
  explain,
  explanationJson,
  fetchCapture,
  formatExplanation,
  loadClientRequests,
  parseThreshold,
  readCapture,
  writeCapture,
  type AgentCapture,
} from '../../explain/index.js';
import type { Command } from '../command.js';

/** Margin around the attack's window when asking a live agent for its records (its clock may be off). */
const WINDOW_MARGIN_NS = 10_000_000_000n;

/** `tailprobe explain`: a thin shell over loadClientRequests + fetchCapture/readCapture + explain (src/explain). */
export const command: Command = {
  spec: {
    name: 'explain',
    summary: 'Say which slow request was slowed by what: GC, a lock, a stall, the queue, the generator',
    usage: '[flags] RESULTS...',
    description: [
      "Joins an attack's results with what the service's agent recorded (tailprobe/agent in Node, the",
      'tailprobe middleware in Go), request by request through the traceparent ids tailprobe attack',
      "sends, on one clock (the agent's offset is estimated from the requests and printed with its",
      'uncertainty). Each request above -above is split into generator lag, time before the handler,',
      'lock waits, GC pauses, event-loop stalls and what is left (said as unexplained); the causes are',
      'ranked by the slow requests they caused and their share of the excess latency. Records come',
      'from a live agent (-agent=URL) or a capture saved earlier (-capture=FILE, written by',
      'attack -explain, the demo, or -save-capture). See docs/explain.md.',
    ].join('\n'),
    flags: [
      { name: 'agent', type: 'string', value: 'URL', help: "The service's agent (its /debug/pprof or /debug/tailprobe address)" },
      { name: 'capture', type: 'string', value: 'FILE', help: 'A saved agent capture (tailprobe-capture/1 JSON) instead of a live agent' },
      { name: 'save-capture', type: 'string', value: 'FILE', help: "With -agent: also save the agent's records to FILE" },
      { name: 'token', type: 'string', value: 'TOKEN', help: 'Agent token (default: $TAILPROBE_AGENT_TOKEN)' },
      { name: 'above', type: 'string', default: 'p99', value: 'Pxx|DURATION', help: 'Slow requests: at or above a percentile (p99, p99.9) or above a latency (50ms)' },
      { name: 'slowest', type: 'int', default: 10, help: 'Slowest requests listed with their parts and trace ids' },
      { name: 'json', type: 'bool', help: 'Print the explanation as JSON (durations in ns, instants as epoch-ns strings)' },
    ],
    examples: [
      'tailprobe explain results.bin -agent=http://127.0.0.1:6060',
      'tailprobe explain -above=p99.9 results.bin -capture=agent-capture.json',
      'tailprobe explain -above=50ms -json results.bin -agent=http://127.0.0.1:6060 > explain.json',
    ],
  },
  async run(args, io) {
    const paths = args.positionals;
    const above = parseThreshold(args.string('above'));
    const slowest = args.number('slowest');
    if (!(slowest >= 0)) throw new UsageError('explain: -slowest must be >= 0');
    const agentUrl = args.string('agent');
    const capturePath = args.string('capture');
    if (agentUrl && capturePath) throw new UsageError('explain: give -agent=URL or -capture=FILE, not both');
    if (args.string('save-capture') && !agentUrl) throw new UsageError('explain: -save-capture needs -agent=URL');
    if (paths.length === 0) throw new UsageError('explain: need a results file (tailprobe explain RESULTS -agent=URL)');

    const { client, info } = await loadClientRequests(paths, io.stdin);
    let capture: AgentCapture | null = null;
    if (capturePath) capture = await readCapture(capturePath);
    else if (agentUrl) {
      const token = args.string('token') || io.env.TAILPROBE_AGENT_TOKEN || undefined;
      const until = client.base + BigInt(Math.ceil(client.lastIntended() + client.metrics.latency.max));
      capture = await fetchCapture(agentUrl, info.startedAt - WINDOW_MARGIN_NS, until + WINDOW_MARGIN_NS, { token });
      const save = args.string('save-capture');
      if (save) await writeCapture(save, capture);
    }
    const e = explain(client, info, capture, { above, slowest });
    for (const w of e.warnings) io.stderr.write(`tailprobe: explain: warning: ${w}\n`);
    io.stdout.write(args.bool('json') ? `${explanationJson(e)}\n` : formatExplanation(e));
    return 0;
  },
};
