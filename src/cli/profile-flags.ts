import { UsageError } from '../errors.js';
import { parseProfileTypes } from '../profile/capture.js';
import { pprofBase, probeServer } from '../profile/fetch.js';
import { profileAttackPlugin } from '../profile/attack-plugin.js';
import type { AttackExtension } from './attack-extension.js';
import type { CliIO } from './command.js';
import type { ParsedArgs } from './flags.js';

/** The entry `attack` lists in ATTACK_EXTENSIONS: the -profile flags and, when given, the plugin. */
export const PROFILE_ATTACK_EXTENSION: AttackExtension = {
  flags: [
    {
      name: 'profile',
      type: 'string',
      value: 'URL',
      help: 'Capture profiles from this pprof address (Go net/http/pprof or tailprobe/agent) during the steady part of the attack',
    },
    { name: 'profile-types', type: 'string', default: 'cpu,heap,block', value: 'LIST', help: 'Profiles for -profile: cpu, heap, allocs, block, mutex, goroutine' },
    { name: 'profile-out', type: 'string', default: 'profiles', value: 'DIR', help: 'Directory for the -profile files (<type>.pb.gz)' },
    { name: 'profile-token', type: 'string', value: 'TOKEN', help: 'Agent token for -profile (default: $TAILPROBE_AGENT_TOKEN)' },
  ],
  async create(args: ParsedArgs, io: CliIO) {
    const url = args.string('profile');
    if (!url) {
      for (const f of ['profile-types', 'profile-out', 'profile-token']) {
        if (args.has(f)) throw new UsageError(`attack: -${f} needs -profile=URL`);
      }
      return null;
    }
    const types = parseProfileTypes(args.string('profile-types'));
    pprofBase(url); // a malformed URL is a usage error before anything runs
    const token = args.string('profile-token') || io.env.TAILPROBE_AGENT_TOKEN || undefined;
    const server = await probeServer(url, { token });
    return profileAttackPlugin({
      url,
      types,
      outDir: args.string('profile-out'),
      token,
      server,
      log: (line) => io.stderr.write(`${line}\n`),
    });
  },
};
