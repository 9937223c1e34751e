/** The `minipod` command line: parse arguments, call the verb, map errors to exit codes. */
import { Command, CommanderError } from 'commander';
import { reportError } from './common.js';
import { inspectCommand, psCommand } from './ps.js';
import { runCommand } from './run.js';

function program(setExit: (code: number) => void): Command {
  const wrap =
    <A extends unknown[]>(fn: (...args: A) => number | Promise<number>) =>
    async (...args: A): Promise<void> => {
      try {
        setExit(await fn(...args));
      } catch (err) {
        setExit(reportError(err));
      }
    };
  const cli = new Command('minipod')
    .description('Run Kubernetes v1 Pods on this host with namespaces, overlayfs and cgroups')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(`minipod: ${s.replace(/^error: /, '')}`) });

  cli
    .command('run')
    .description('start a pod from a manifest (JSON or YAML) and stay attached until it ends')
    .argument('<manifest>', 'the Pod manifest')
    .action(wrap((manifest: string) => runCommand(manifest, {})));

  cli
    .command('ps')
    .description('list pods')
    .option('--format <format>', 'table (default) or json')
    .action(wrap((options: { format?: string }) => psCommand(options)));

  cli
    .command('inspect')
    .description('print a pod\'s state as JSON')
    .argument('<pod>', 'pod name')
    .action(wrap((pod: string) => inspectCommand(pod)));

  return cli;
}

export async function main(argv: string[]): Promise<void> {
  let exitCode = 0;
  const cli = program((code) => (exitCode = code));
  try {
    await cli.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors 125 like podman's.
      process.exit(err.exitCode === 0 ? 0 : 125);
    }
    throw err;
  }
  process.exit(exitCode);
}
