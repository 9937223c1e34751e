/**
 * `minipod-oci` (and `minipod oci`): runc's command line. Global flags, then a subcommand
 * looked up in one table (core-commands.ts, client-commands.ts), then its flags and operands.
 * Errors are printed as one line on stderr, written to `--log` in its format, and exit 1, as
 * runc does; `run` exits with the container's status.
 */
import { describeError } from '../../errors.js';
import { ociRuntimeRoot } from '../../paths.js';
import { type FlagSpec, parseArgs, stringFlag, boolFlag } from './args.js';
import { CLIENT_COMMANDS } from './client-commands.js';
import type { CommandContext, CommandTable, GlobalOptions } from './command.js';
import { CORE_COMMANDS } from './core-commands.js';
import { createLog } from './log.js';
import { OCI_RUNTIME_VERSION, OCI_SPEC_VERSION } from './version.js';

export const DEFAULT_ROOT = ociRuntimeRoot();

const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'root', kind: 'string' },
  { name: 'log', kind: 'string' },
  { name: 'log-format', kind: 'string' },
  { name: 'debug', kind: 'bool' },
  { name: 'systemd-cgroup', kind: 'bool' },
  { name: 'rootless', kind: 'string' },
  { name: 'criu', kind: 'string' },
  { name: 'version', alias: 'v', kind: 'bool' },
  { name: 'help', alias: 'h', kind: 'bool' },
];

export const COMMANDS: CommandTable = { ...CORE_COMMANDS, ...CLIENT_COMMANDS };

class UsageError extends Error {}

export function parseGlobals(argv: readonly string[]): { global: GlobalOptions; rest: string[]; version: boolean; help: boolean } {
  const parsed = parseArgs(argv, GLOBAL_FLAGS, true);
  const format = stringFlag(parsed, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format: unknown format "${format}" (text or json)`);
  if (boolFlag(parsed, 'systemd-cgroup')) {
    throw new UsageError(
      '--systemd-cgroup: minipod-oci manages cgroups through cgroupfs only; drop the flag (podman: cgroup_manager = "cgroupfs")',
    );
  }
  const rootless = stringFlag(parsed, 'rootless');
  if (rootless !== undefined && rootless !== 'false' && rootless !== 'auto') {
    throw new UsageError(`--rootless ${rootless}: minipod-oci runs as root only`);
  }
  const global: GlobalOptions = {
    root: stringFlag(parsed, 'root') ?? DEFAULT_ROOT,
    log: stringFlag(parsed, 'log') || undefined,
    logFormat: format,
    debug: boolFlag(parsed, 'debug'),
  };
  return { global, rest: parsed.operands, version: boolFlag(parsed, 'version'), help: boolFlag(parsed, 'help') };
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `   ${name.padEnd(10)} ${c.summary}`);
  return [
    "minipod-oci: an OCI runtime with runc's command line (minipod)",
    '',
    'USAGE: minipod-oci [global options] command [command options] [arguments...]',
    '',
    'COMMANDS:',
    ...lines,
    '',
    'GLOBAL OPTIONS: --root DIR (default /run/minipod-oci), --log FILE, --log-format text|json, --debug',
    '',
  ].join('\n');
}

/** Runs the command line; resolves with the exit code (the caller exits with it). */
export async function runOci(argv: readonly string[]): Promise<number> {
  let ctx: CommandContext | undefined;
  try {
    const { global, rest, version, help } = parseGlobals(argv);
    ctx = { global, log: createLog(global.log, global.logFormat, global.debug), argv };
    if (version) {
      process.stdout.write(`minipod-oci version ${OCI_RUNTIME_VERSION}\nspec: ${OCI_SPEC_VERSION}\n`);
      return 0;
    }
    const name = rest[0];
    if (help || name === undefined || name === 'help') {
      process.stdout.write(usage());
      return name === undefined && !help ? 1 : 0;
    }
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) throw new UsageError(`No help topic for '${name}'`);
    const command = await entry.load();
    const args = parseArgs(rest.slice(1), command.flags, command.stopAtFirstOperand);
    return await command.run(ctx, args);
  } catch (err) {
    const message = err instanceof UsageError ? err.message : describeError(err).lines.join(': ');
    ctx?.log.write('error', message);
    process.stderr.write(`minipod-oci: ${message}\n`);
    if (process.env.MINIPOD_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return 1;
  }
}

/** bin/minipod-oci's entry point. */
export function main(argv: readonly string[]): void {
  void runOci(argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
