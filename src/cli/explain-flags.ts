import { UsageError } from '../errors.js';
import { explain, explainAttackPlugin, formatExplanation, loadClientRequests, probeAgent } from '../explain/index.js';
import { parseProfileTypes } from '../profile/capture.js';
import { pprofBase } from '../profile/fetch.js';
import type { AttackExtension } from './attack-extension.js';
import type { CliIO } from './command.js';
import type { ParsedArgs } from './flags.js';

/**
 * `attack -explain=URL`: the explain plugin (src/explain/attack-plugin.ts) captures the agent's
 * records during the attack; once the results file is written, the run is explained on stderr
 * (with results on stdout, the capture is saved and the command to explain it later is printed).
 */
export const EXPLAIN_ATTACK_EXTENSION: AttackExtension = {
  flags: [
    { name: 'explain', type: 'string', value: 'URL', help: "Capture the service agent's records (tailprobe/agent, or the Go middleware) during the attack and explain the tail" },
    { name: 'explain-capture', type: 'string', default: 'agent-capture.json', value: 'FILE', help: 'Where -explain saves the agent capture (for tailprobe explain RESULTS -capture=FILE)' },
  ],
  async create(args: ParsedArgs, io: CliIO) {
    const url = args.string('explain');
    if (!url) {
      if (args.has('explain-capture')) throw new UsageError('attack: -explain-capture needs -explain=URL');
      return null;
    }
    pprofBase(url); // a malformed URL is a usage error before anything runs
    const token = args.string('profile-token') || io.env.TAILPROBE_AGENT_TOKEN || undefined;
    const captureFile = args.string('explain-capture');
    // One CPU profile at a time on a service: -profile's CPU capture of the same agent wins.
    const profileCpu = args.string('profile') !== '' && parseProfileTypes(args.string('profile-types')).includes('cpu');
    // A wrong URL fails before any load is sent; what the agent offers decides how CPU is taken.
    const { features } = await probeAgent(url, { token });
    const cpu = profileCpu ? 'none' : features.includes('cpu-samples') ? 'samples' : features.includes('pprof-labels') ? 'labels' : 'none';
    const { plugin, captured } = explainAttackPlugin({ url, token, captureFile, cpu });
    return {
      plugin,
      async afterResults(file) {
        const capture = captured();
        if (!capture) return [];
        if (file === null) return [`explain: results went to stdout; explain them with: tailprobe explain RESULTS -capture=${captureFile}`];
        try {
          const { client, info } = await loadClientRequests([file]);
          return [formatExplanation(explain(client, info, capture)).trimEnd()];
        } catch (err) {
          return [`tailprobe: explain: ${(err as Error).message}`];
        }
      },
    };
  },
};
