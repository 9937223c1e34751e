/**
 * The thin client: `run` and `rm -f` of daemon pods without loading the full CLI.
 *
 * Both are on the start and stop path of every pod, and loading the whole program (commander,
 * the manifest parser, cgroups, network, images) costs Node ~20 ms before anything happens.
 * This entry point (dist/bundle/client.js) holds only what these two need: read the manifest,
 * talk to the daemon, print. Anything it does not recognise, or a pod the daemon does not
 * run, returns false and bin/minipod hands the same argv to the full CLI, which gives the
 * usual help and errors.
 */
import { ExitCode } from '../errors.js';
import { minipodPaths } from '../paths.js';
import { callDaemon, throwIfError } from '../daemon/client.js';
import { reportError, requireRoot } from './report.js';
import { runCommand } from './run.js';

type Parsed = { flags: Set<string>; operands: string[] };

/**
 * `-d`, `--detach`, `-f FILE` (a file operand, as `kubectl -f`), operands; undefined for
 * anything else (`--help`, `--`, `--dry-run`, unknown flags).
 */
function parse(args: string[], known: Record<string, string>): Parsed | undefined {
  const flags = new Set<string>();
  const files: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-f' || a === '--file') {
      const file = args[++i];
      if (file === undefined) return undefined;
      files.push(file);
    } else if (a.startsWith('-')) {
      const flag = known[a];
      if (!flag) return undefined;
      flags.add(flag);
    } else {
      operands.push(a);
    }
  }
  // As the full CLI (commander) orders them: the -f files, then the operands.
  return { flags, operands: [...files, ...operands] };
}

async function fastRun(args: string[]): Promise<number | undefined> {
  const p = parse(args, { '-d': 'detach', '--detach': 'detach' });
  if (!p || p.operands.length === 0) return undefined;
  return runCommand(p.operands, { detach: p.flags.has('detach') });
}

async function fastRemove(args: string[]): Promise<number | undefined> {
  const p = parse(args, { '-f': 'force', '--force': 'force' });
  if (!p || p.operands.length === 0 || !p.flags.has('force')) return undefined;
  requireRoot();
  const answer = await callDaemon(minipodPaths(), { op: 'remove', pods: p.operands, force: true });
  if (!answer || (answer.t === 'error' && answer.code === 'daemon.unknown-pod')) return undefined;
  throwIfError(answer);
  for (const pod of p.operands) process.stdout.write(`${pod}\n`);
  return answer.t === 'exit' ? answer.code : ExitCode.runtime;
}

/** Returns false when the full CLI must handle this argv; otherwise exits. */
export async function main(argv: string[]): Promise<boolean> {
  const [verb, ...args] = argv.slice(2);
  let code: number | undefined;
  try {
    if (verb === 'run') code = await fastRun(args);
    else if (verb === 'rm') code = await fastRemove(args);
  } catch (err) {
    code = reportError(err);
  }
  if (code === undefined) return false;
  process.exit(code);
}
