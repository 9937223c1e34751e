/**
 * conmon's command line, planned as data (docs/architecture.md, "Containers that outlive the
 * daemon"). One conmon per container, as podman runs it (libpod/oci_conmon_common.go,
 * sharedConmonArgs): it double-forks away from the daemon, becomes a subreaper, runs
 * `RUNTIME create --bundle B --pid-file P ID`, reports the container's pid on the sync pipe,
 * then holds the container's stdout and stderr (written to a CRI log file) and writes its exit
 * status to `<exitDir>/<id>` when it exits. The daemon can die meanwhile: nothing of the
 * container depends on it.
 */
import path from 'node:path';

export interface ConmonRequest {
  /** conmon's binary. */
  conmon: string;
  /** The OCI runtime conmon runs (runc's command line). */
  runtime: string;
  /** Global arguments put before the runtime's command (`--root DIR`). */
  runtimeArgs: string[];
  /** The OCI container id (unique under the runtime's root). */
  id: string;
  /** conmon's own id for the attach socket's name (short: unix socket paths are limited). */
  cuuid: string;
  /** The container's name (conmon logs it). */
  name: string;
  /** The bundle dir: config.json; conmon's pid files are written beside it. */
  bundle: string;
  /** Where conmon writes `<id>` with the exit status. */
  exitDir: string;
  /** The container's CRI log file (conmon's `k8s-file` driver writes the same format). */
  logPath: string;
  /** The directory of attach sockets (a symlink `<dir>/<cuuid>` to the bundle is made there). */
  socketDir: string;
  /** Bytes after which conmon starts the log file again; none means no limit. */
  logSizeMax?: number;
  /** The container gets an open stdin pipe (kept by conmon, reachable through attach). */
  stdin?: boolean;
  /** The file descriptor (in conmon) of the sync pipe. */
  syncFd: number;
  /**
   * Start conmon (and so the runtime's create) at the lowest CPU priority, through coreutils'
   * `nice -n 19` (19 is the cap): a warm pool's conmons boot so, and their Node create does not
   * take the CPUs from the pods starting meanwhile; the claim gives conmon ours back.
   */
  background?: boolean;
}

export interface ConmonCommand {
  argv: string[];
  /** Added to conmon's environment (and so the runtime's). */
  env: Record<string, string>;
  /** Where conmon writes its own pid (of the daemonised process) and the container's. */
  conmonPidFile: string;
  containerPidFile: string;
}

/** coreutils' nice: it execs conmon, whose pid stays the one we spawned. */
export const NICE = '/usr/bin/nice';

/** The conmon command for one container. Pure: the tests compare whole commands. */
export function conmonCommand(r: ConmonRequest): ConmonCommand {
  const conmonPidFile = path.join(r.bundle, 'conmon.pid');
  const containerPidFile = path.join(r.bundle, 'pidfile');
  const argv = [
    ...(r.background ? [NICE, '-n', '19'] : []),
    r.conmon,
    // API 1: the sync pipe carries {"data": N, "message": "..."} (podman's choice).
    '--api-version',
    '1',
    '-c',
    r.id,
    '-u',
    r.cuuid,
    '-n',
    r.name,
    '-r',
    r.runtime,
    ...r.runtimeArgs.flatMap((a) => ['--runtime-arg', a]),
    '-b',
    r.bundle,
    '-p',
    containerPidFile,
    '-P',
    conmonPidFile,
    '--exit-dir',
    r.exitDir,
    '-l',
    `k8s-file:${r.logPath}`,
    '--socket-dir-path',
    r.socketDir,
    // Errors only: conmon's debug messages would go to syslog, which this host may lack.
    '--log-level',
    'error',
    ...(r.logSizeMax !== undefined ? ['--log-size-max', String(r.logSizeMax)] : []),
    ...(r.stdin ? ['-i'] : []),
  ];
  return { argv, env: { _OCI_SYNCPIPE: String(r.syncFd) }, conmonPidFile, containerPidFile };
}

/** What conmon said on the sync pipe: the container's pid, or why the create failed. */
export type SyncMessage = { pid: number } | { error: string };

/**
 * Parses one line of the sync pipe (API 1): `{"data": 1234}` is the container's pid, a
 * negative `data` a failed create with the runtime's stderr in `message`.
 */
export function parseSyncMessage(line: string): SyncMessage {
  let msg: { data?: unknown; pid?: unknown; message?: unknown };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    return { error: `conmon sent something else than JSON on its sync pipe: ${line.slice(0, 200)}` };
  }
  const value = msg.data ?? msg.pid;
  if (typeof value !== 'number' || !Number.isInteger(value)) return { error: `conmon's sync message has no pid: ${line.slice(0, 200)}` };
  if (value > 0) return { pid: value };
  const message = typeof msg.message === 'string' ? msg.message.trim() : '';
  return { error: message || `the OCI runtime failed to create the container (conmon reported ${value})` };
}

/**
 * The exit status conmon wrote: the code, or 128 + the signal (conmon's get_exit_status).
 * `-1` (conmon could not tell, or a timeout) and anything else read as null: it exited, the
 * status is unknown.
 */
export function parseExitFile(text: string): number | null {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return null;
  const code = Number(t);
  return code >= 0 && code <= 255 ? code : null;
}
