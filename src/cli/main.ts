/** The `minipod` command line: parse arguments, call the verb, map errors to exit codes. */
import { Command, CommanderError, Option } from 'commander';
import { reportError } from './common.js';
import type { DaemonRunOptions } from './daemon.js';
import type { ExecCommandOptions } from './exec.js';
import type { LogsOptions } from './logs.js';

// Each verb's module is imported when the verb runs: loading every subsystem (network,
// images, probes, exec) for every command costs tens of milliseconds of start-up.
const ps = () => import('./ps.js');
const lifecycle = () => import('./lifecycle.js');

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
    .description('start the pods of manifests (JSON or YAML; Pods with their ConfigMaps and Secrets); attached until it ends, or -d')
    .argument('[file...]', 'manifest files; each may hold several documents (---) or a List')
    .option('-f, --file <file>', 'a manifest file (may be repeated)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-d, --detach', 'start the pods in the background and print their names')
    .option('--dry-run', 'check every document, print every warning and error; start nothing (no root needed)')
    .action(
      wrap(async (files: string[], o: { detach?: boolean; file: string[]; dryRun?: boolean }) => {
        const run = await import('./run.js');
        const all = [...o.file, ...files];
        return o.dryRun ? run.dryRunCommand(all) : run.runCommand(all, { detach: o.detach });
      }),
    );

  cli
    .command('ps')
    .description('list running pods (-a: also stopped ones)')
    .option('-a, --all', 'include pods that have ended')
    .option('--format <format>', 'table (default) or json')
    .action(wrap(async (options: { format?: string; all?: boolean }) => (await ps()).psCommand(options)));

  cli
    .command('logs')
    .description("print the logs of a pod's containers")
    .argument('<pod>', 'pod name')
    .argument('[container]', 'only this container')
    .option('-f, --follow', 'keep printing new lines until the pod ends')
    .option('--tail <n>', 'only the last n lines of each container')
    .option('-t, --timestamps', "show each line's time")
    .option('--since <time>', 'lines since an RFC 3339 time or a duration (10s, 5m, 1h)')
    .option('-p, --previous', "the logs of the container's previous instance (before its last restart)")
    .action(
      wrap(async (pod: string, container: string | undefined, o: LogsOptions) =>
        (await import('./logs.js')).logsCommand(pod, container, o),
      ),
    );

  cli
    .command('stop')
    .description('stop pods: SIGTERM, SIGKILL after the grace period, teardown; the record stays until rm')
    .argument('<pods...>', 'pod names, or KIND/NAME (Deployment/web) for the pods of a workload object')
    .option('-t, --time <seconds>', "grace period (default: the pod's terminationGracePeriodSeconds)")
    .action(wrap(async (pods: string[], o: { time?: string }) => (await lifecycle()).stopCommand(pods, o)));

  cli
    .command('kill')
    .description("send a signal to a pod's containers (the restart policy then applies)")
    .argument('<pod>', 'pod name')
    .argument('[container]', 'only this container')
    .option('-s, --signal <signal>', 'signal name or number', 'SIGKILL')
    .action(
      wrap(async (pod: string, container: string | undefined, o: { signal?: string }) =>
        (await lifecycle()).killCommand(pod, container, o),
      ),
    );

  cli
    .command('restart')
    .description('stop a pod and start it again from the spec it was started with (detached)')
    .argument('<pod>', 'pod name')
    .option('-t, --time <seconds>', 'grace period for the stop')
    .action(wrap(async (pod: string, o: { time?: string }) => (await lifecycle()).restartCommand(pod, o)));

  cli
    .command('rm')
    .description('remove stopped pods (their record and logs); -f stops running ones first')
    .argument('<pods...>', 'pod names, or KIND/NAME (Deployment/web) for the pods of a workload object')
    .option('-f, --force', 'stop running pods without a grace period, then remove them')
    .action(wrap(async (pods: string[], o: { force?: boolean }) => (await lifecycle()).rmCommand(pods, o)));

  cli
    .command('gc')
    .description('free everything whose owner is gone: pods of dead supervisors, cgroups, network reservations, mounts')
    .action(wrap(async () => (await lifecycle()).gcCommand()));

  cli
    .command('stats')
    .description('live CPU, memory and pids of each container and pod')
    .argument('[pod]', 'only this pod')
    .option('--no-stream', 'print once and exit')
    .option('--format <format>', 'table (default) or json')
    .action(wrap(async (pod: string | undefined, o: { stream?: boolean; format?: string }) => (await lifecycle()).statsCliCommand(pod, o)));

  cli
    .command('exec')
    .description('run a command in a running container (its namespaces, root, cgroup, user and capabilities)')
    .usage('[options] POD CONTAINER -- CMD...')
    .argument('<pod>', 'pod name')
    .argument('<container>', 'container name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-i, --interactive', 'pass stdin to the command')
    .option('-t, --tty', 'give the command a pseudo-terminal')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-u, --user <UID[:GID]>', "run as this user (a number or a name from the image's /etc/passwd)")
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .action(
      wrap(async (pod: string, container: string, command: string[], o: ExecCommandOptions) =>
        (await import('./exec.js')).execCommand(pod, container, command, { ...o, interactive: !!o.interactive, tty: !!o.tty }),
      ),
    );

  // ---- the daemon (src/cli/daemon.ts) ----
  const daemon = () => import('./daemon.js');
  const daemonCmd = cli.command('daemon').description('the daemon that supervises every pod (started by `run` when needed)');
  daemonCmd
    .command('run')
    .description('run the daemon in the foreground (for a service manager); `run` starts one by itself')
    .option('--idle <seconds>', 'exit after this long without pods or clients; 0 = never (default 60, or $MINIPOD_DAEMON_IDLE)')
    .option('--warm <n>', 'pod sandboxes to keep booted (default 1, or $MINIPOD_WARM_SANDBOXES)')
    .addOption(new Option('--ready-fd <fd>').hideHelp())
    .action(wrap(async (o: DaemonRunOptions) => (await daemon()).daemonRunCommand(o)));
  daemonCmd
    .command('stop')
    .description('stop every pod it supervises (with their grace periods) and the daemon')
    .action(wrap(async () => (await daemon()).daemonStopCommand()));
  daemonCmd
    .command('restart')
    .description('hand every running pod to a new daemon (new code) without stopping them')
    .action(wrap(async () => (await daemon()).daemonRestartCommand()));
  daemonCmd
    .command('status')
    .description('pid, pods, warm pool and memory of the running daemon')
    .option('--format <format>', 'text (default) or json')
    .action(wrap(async (o: { format?: string }) => (await daemon()).daemonStatusCommand(o)));
  daemonCmd
    .command('settle', { hidden: true })
    .description('wait until the daemon has nothing booting in the background')
    .action(wrap(async () => (await daemon()).daemonSettleCommand()));

  cli
    .command('inspect')
    .description("print a pod's state as JSON")
    .argument('<pod>', 'pod name')
    .action(wrap(async (pod: string) => (await ps()).inspectCommand(pod)));

  cli
    .command('explain')
    .description('the pod as the kernel sees it: processes, namespaces, cgroups, mounts, network (read from /proc and /sys)')
    .argument('<pod>', 'pod name')
    .option('--format <format>', 'text (default), json, svg or dot')
    .action(wrap(async (pod: string, o: { format?: string }) => (await import('./explain.js')).explainCommand(pod, o)));

  // ---- images (src/cli/images.ts) ----
  const images = () => import('./images.js');
  cli
    .command('pull')
    .description('pull an image into the store: a registry reference, oci:, oci-archive:, docker-archive: or a tarball')
    .argument('<image>', 'what `image:` accepts, relative to the current directory')
    .action(wrap(async (image: string) => (await images()).pullCommand(image)));
  cli
    .command('images')
    .description('list the images in the store')
    .option('--format <format>', 'table (default) or json')
    .option('-q, --quiet', 'only image ids')
    .action(wrap(async (o: { format?: string; quiet?: boolean }) => (await images()).imagesCommand(o)));
  cli
    .command('rmi')
    .description('remove images (a name of an image with several names is untagged); refused while a pod uses one')
    .argument('<images...>', 'names or ids (a unique prefix of 6+ hex digits)')
    .option('-f, --force', 'for an image pods use: remove its names only; the image goes with the pods')
    .action(wrap(async (list: string[], o: { force?: boolean }) => (await images()).rmiCommand(list, o)));
  cli
    .command('image')
    .description('manage images')
    .command('prune')
    .description('remove unnamed images, and layers, blobs and rootfs entries no image or pod uses')
    .option('-a, --all', 'also remove named images no pod uses')
    .action(wrap(async (o: { all?: boolean }) => (await images()).pruneCommand(o)));

  // ---- named volumes (src/cli/volumes.ts) ----
  const volumes = () => import('./volumes.js');
  const collect = (v: string, acc: string[]): string[] => [...acc, v];
  const volumeCmd = cli.command('volume').description('manage named volumes (persistentVolumeClaim, volume create)');
  volumeCmd
    .command('create')
    .description('create a named volume (a random name when none is given)')
    .argument('[name]', 'volume name')
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect, [] as string[])
    .option('--ignore', 'do nothing when the volume exists')
    .option('-d, --driver <driver>', 'volume driver (local only)')
    .option('-o, --opt <option>', 'driver option (none supported)', collect, [] as string[])
    .action(
      wrap(async (name: string | undefined, o: import('./volumes.js').VolumeCreateOptions) =>
        (await volumes()).volumeCreateCommand(name, o),
      ),
    );
  volumeCmd
    .command('ls')
    .alias('list')
    .description('list named volumes')
    .option('--format <format>', 'table (default) or json')
    .option('-q, --quiet', 'only volume names')
    .action(wrap(async (o: { format?: string; quiet?: boolean }) => (await volumes()).volumeLsCommand(o)));
  volumeCmd
    .command('inspect')
    .description("print named volumes as JSON (podman's keys, the claim, the pods using it)")
    .argument('[names...]', 'volume names')
    .option('-a, --all', 'every volume')
    .option('-f, --format <format>', 'json (the only format)')
    .action(wrap(async (names: string[], o: { all?: boolean; format?: string }) => (await volumes()).volumeInspectCommand(names, o)));
  volumeCmd
    .command('rm')
    .alias('remove')
    .description('remove named volumes; refused (exit 2) while a pod uses one')
    .argument('[names...]', 'volume names')
    .option('-f, --force', 'remove the pods that use the volume first')
    .option('-a, --all', 'every volume')
    .action(wrap(async (names: string[], o: { force?: boolean; all?: boolean }) => (await volumes()).volumeRmCommand(names, o)));
  volumeCmd
    .command('prune')
    .description('remove every named volume no pod uses')
    .option('-f, --force', 'do not ask for confirmation')
    .action(wrap(async (o: { force?: boolean }) => (await volumes()).volumePruneCommand(o)));
  cli
    .command('seccomp-default')
    .description('print the default seccomp profile (RuntimeDefault) as JSON: a starting point for a Localhost profile')
    .action(
      wrap(async () => {
        process.stdout.write((await import('../seccomp/default-profile.js')).defaultProfileJson());
        return 0;
      }),
    );

  // Pods a killed daemon left behind run on under conmon: the verbs that look at pods first
  // start a daemon, which adopts them, so they see the pods Running and can act on them.
  cli.hook('preAction', async (_root, action) => {
    if (action.parent === cli && POD_VERBS.has(action.name())) await (await import('./adopt-orphans.js')).adoptOrphans();
  });
  return cli;
}

const POD_VERBS = new Set(['ps', 'logs', 'stop', 'kill', 'restart', 'rm', 'gc', 'stats', 'exec', 'inspect', 'explain']);

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
