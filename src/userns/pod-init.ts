/**
 * Starting the pod's init (catatonit) in a user namespace of its own.
 *
 * The kernel lets only a single-threaded process create or join a user namespace, and Node is
 * never single-threaded, so util-linux does it: the supervisor spawns
 *   unshare --user --pid --net --ipc --uts --mount --fork --kill-child=SIGKILL --root=<init root> -- /init -P
 * One unshare(2) creates the user namespace and, owned by it, the pod's PID, network, IPC, UTS
 * and mount namespaces (a namespace's owner decides whose capabilities count in it: the pod's
 * root must be root over its own network and hostname, and proc can only be mounted by a
 * process that is capable in the owner of the PID namespace). unshare then forks the pod's
 * PID 1, which chroots into the init root the supervisor prepared (an empty read-only tmpfs
 * holding only the catatonit binary) and execs catatonit. The unshare process stays as its
 * parent; SIGKILL to it kills PID 1 (--kill-child) and so the whole pod.
 *
 * unshare runs as host uid `base` (the pod's root), so the namespace belongs to the pod's root
 * and PID 1 is never host root. PID 1 cannot wait for the id maps (unshare would need
 * newuidmap for a range): if it execs before they exist it keeps no capability, which is all
 * catatonit needs (it reaps and waits for a signal). The supervisor, root in the parent
 * namespace, writes /proc/<pid>/uid_map and gid_map as soon as the namespace exists; every
 * container helper joins afterwards through nsenter and becomes the pod's root, mapped. A pidns cannot be joined before its PID 1 exists
 * (/proc/<pid>/ns/pid_for_children of a process that only unshared is ENOENT), hence the fork.
 *
 * The hostname and `lo` are set from the supervisor's main thread, which may enter the pod's
 * UTS and network namespaces (host root is capable in every descendant user namespace).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { MS } from '../../native-bindings/constants.js';
import { spawnInNamespaces } from '../namespaces/pod-namespaces.js';
import type { Helper } from '../process/helper-client.js';
import type { Syscall } from '../syscall/syscall.js';
import { idMapText, type IdRange } from './ranges.js';
import { HostError } from '../errors.js';

export const UNSHARE = '/usr/bin/unshare';
const USERNS_HINT = `${UNSHARE} (util-linux), and user namespaces on this host (sysctl user.max_user_namespaces)`;
export const NSENTER = '/usr/bin/nsenter';

export interface UsernsInitOptions {
  sys: Syscall;
  range: IdRange;
  /** Empty host dir; becomes the init's read-only tmpfs root (unmounted by the pod's teardown). */
  initRoot: string;
  initBinary: string;
  hostname?: string;
  /** How long the namespaces may take to appear. */
  timeoutMs?: number;
}

/** The init's root, made on the host (the init cannot: it runs without capabilities). */
export function prepareInitRoot(sys: Syscall, initRoot: string, initBinary: string): void {
  fs.mkdirSync(initRoot, { recursive: true, mode: 0o700 });
  sys.mount('tmpfs', initRoot, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=0755');
  const init = path.join(initRoot, 'init');
  fs.writeFileSync(init, '', { mode: 0o555 });
  sys.mount(initBinary, init, null, MS.BIND);
  sys.mount(null, init, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV);
  sys.mount(null, initRoot, null, MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV);
}

export function unshareArgs(initRoot: string): string[] {
  return [
    '--user',
    '--pid',
    '--net',
    '--ipc',
    '--uts',
    '--mount',
    '--propagation=private',
    '--fork',
    '--kill-child=SIGKILL',
    `--root=${initRoot}`,
    '--wd=/',
    '--',
    '/init',
    '-P',
  ];
}

function readChildPid(parent: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

function userNamespaceOf(pid: number | 'self'): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return undefined;
  }
}

/** Polls (without blocking the event loop) until unshare has made the namespaces and forked PID 1. */
async function waitForInit(child: ChildProcess, timeoutMs: number): Promise<number> {
  const pid = child.pid!;
  const host = userNamespaceOf('self');
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let spins = 0; ; spins++) {
    const ns = userNamespaceOf(pid);
    const init = ns !== undefined && ns !== host ? readChildPid(pid) : undefined;
    if (init !== undefined) return init;
    if (exited) throw new HostError(`${UNSHARE} exited before the pod's namespaces existed`, { hint: USERNS_HINT });
    if (Date.now() > deadline)
      throw new HostError(`${UNSHARE} did not create the pod's namespaces within ${timeoutMs} ms`, { hint: USERNS_HINT });
    // Spin on the event loop first (unshare takes ~1 ms), then back off.
    await new Promise((r) => (spins < 200 ? setImmediate(r) : setTimeout(r, 2)));
  }
}

/**
 * unshare re-raises PID 1's fatal signal on itself and, for SIGKILL (the pod's teardown),
 * first fails to unblock it: a line that says nothing to the user.
 */
function withoutUnshareNoise(stream: Readable): Readable {
  const out = new PassThrough();
  stream.on('data', (d: Buffer) => {
    const text = d
      .toString()
      .split('\n')
      .filter((l) => l && !l.includes('sigprocmask unblock failed'))
      .join('\n');
    if (text) out.write(text);
  });
  stream.on('close', () => out.destroy());
  return out;
}

/** Writes the pod's id maps; the kernel accepts them once, from root in the parent namespace. */
export function writeIdMaps(pid: number, range: IdRange): void {
  fs.writeFileSync(`/proc/${pid}/uid_map`, idMapText(range));
  fs.writeFileSync(`/proc/${pid}/gid_map`, idMapText(range));
}

/**
 * Starts the pod's PID 1 in new user, PID, network, IPC, UTS and mount namespaces. The Helper
 * returned has `pid` = PID 1's host pid (whose /proc/<pid>/ns/* containers join) and `child` =
 * the unshare process (its exit is the init's exit).
 */
export async function startUsernsPodInit(o: UsernsInitOptions): Promise<Helper> {
  prepareInitRoot(o.sys, o.initRoot, o.initBinary);
  // Started as the range's first id, not as root: unshare(CLONE_NEWUSER) needs no privilege,
  // the namespace is then owned by the pod's root, and PID 1 is never host uid 0, even in the
  // moment before the maps exist (an unmapped process keeps its host ids).
  const child = spawn(UNSHARE, unshareArgs(o.initRoot), {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: {},
    uid: o.range.base,
    gid: o.range.base,
  });
  if (child.pid === undefined) {
    await new Promise((r) => child.once('error', r));
    throw new HostError(`could not run ${UNSHARE} (util-linux) for the pod's user namespace`, { hint: USERNS_HINT });
  }
  try {
    const pid = await waitForInit(child, o.timeoutMs ?? 5000);
    writeIdMaps(child.pid, o.range);
    spawnInNamespaces(o.sys, { create: [], join: { pid, namespaces: o.hostname ? ['uts', 'net'] : ['net'] } }, () => {
      if (o.hostname) o.sys.sethostname(o.hostname);
      o.sys.bringInterfaceUp('lo');
    });
    return {
      child,
      pid,
      // No plan to send: the init is already running.
      control: new net.Socket(),
      booted: Promise.resolve(true),
      isBooted: true,
      // Nothing is sent to it: it has exec'd, successfully, as far as a plan is concerned.
      closed: Promise.resolve(undefined),
      stdout: child.stdout,
      stderr: withoutUnshareNoise(child.stderr!),
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
