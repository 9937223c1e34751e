/**
 * `create`: config.json -> a container whose init waits on the exec fifo (runc's life cycle).
 *
 * The init is a helper (src/process/helper-main.ts) spawned by this process, in the config's
 * namespaces, with this process's stdio as its own: when create exits, the init is reparented
 * to the nearest subreaper (conmon, the containerd shim) that waits for it. The steps with the
 * helper are protocol.ts's o1-o3; any failure kills the helper and removes the cgroup and the
 * state directory, so a failed create leaves nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCgroupMode } from '../../cgroups/index.js';
import { UserError } from '../../errors.js';
import type { OciPlanPart } from '../../plan/types.js';
import { runHooksSync } from '../../process/oci-hooks.js';
import { discardHelper, type Helper, spawnHelper } from '../../process/helper-client.js';
import { checkConsoleRequest, connectConsole, consolePlan } from '../client/console-create.js';
import { encodeMessage, LineReader, parseHelperMessage } from '../../process/protocol.js';
import { hostSyscall } from '../../syscall/linux.js';
import { OCI_SPEC_VERSION } from '../cli/version.js';
import { configError } from '../config/errors.js';
import { parsePooledStub, POOLED_FILES, pooledMismatch } from '../config/pooled.js';
import { translateConfig, type OciCreatePlan } from '../config/translate.js';
import { type ContainerRecord, readProcStat, StateStore } from '../state/store.js';
import { CGROUP_ROOT, destroyCgroup, expandCgroupMounts, type OciCgroup, recordedCgroup, setupCgroup } from './cgroup.js';
import { spawnInOciNamespaces } from './namespaces.js';
import { setNice } from '../../process/priority.js';
import { waitForPooledConfig } from './pooled-wait.js';
import { chownToNamespaceRoot, joinCgroupsFromHost, planUsernsSpawn, writeIdMappings } from './userns.js';
import { planPreservedFds } from '../../process/preserve-fds.js';
import { compileOciSeccomp } from './seccomp.js';

/** O_PATH (x86_64): a handle on the exec fifo that neither reads nor writes. */
const O_PATH = 0o10000000;

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  /** Warnings (fields accepted but not enforced) go to the log. */
  warn(message: string): void;
}

export interface Created {
  record: ContainerRecord;
  helper: Helper;
}

function isOpenFd(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

function statKind(p: string): 'dir' | 'file' | undefined {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

export function loadConfig(bundle: string): unknown {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** Every file the spawned helper must not inherit from us but the container's stdio. */
function waitForCreated(helper: Helper, onMounted: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = new LineReader();
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve();
    };
    helper.control.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) {
        let message;
        try {
          message = parseHelperMessage(line);
        } catch (err) {
          finish(err as Error);
          return;
        }
        if (message.type === 'mounted') {
          try {
            onMounted();
            helper.control.write(encodeMessage({ type: 'continue' }));
          } catch (err) {
            finish(err as Error);
          }
        } else if (message.type === 'created') finish();
        else if (message.type === 'error') finish(new UserError(message.message, { exitCode: message.exitCode }));
      }
    });
    void helper.closed.then((failure) =>
      finish(failure ? new UserError(failure.message) : new UserError('the container init exited during create')),
    );
  });
}

export async function createContainer(store: StateStore, opts: CreateOptions): Promise<Created> {
  const bundle = path.resolve(opts.bundle);
  store.dir(opts.id); // Checks the id first, as runc does.
  if (store.find(opts.id) || fs.existsSync(store.dir(opts.id)))
    throw new UserError(`container with id exists: ${opts.id}`, { code: 'oci.exists' });
  let config = loadConfig(bundle);
  const stub = parsePooledStub(config);
  const mode = detectCgroupMode(CGROUP_ROOT);
  const v2 = mode === 'unified';
  const sys = hostSyscall();
  let claimed = false;
  let cgroup: OciCgroup | undefined;
  let helper: Helper | undefined;
  let record: ContainerRecord | undefined;
  try {
    if (stub) {
      // Pooled (config/pooled.ts): the helper boots now, the container's config comes later.
      if (opts.preserveFds > 0 || opts.consoleSocket) throw new UserError('a pooled create takes no --preserve-fds or --console-socket');
      // The id is claimed with the real config, as for any create: until then the runtime's
      // root holds nothing of the entry (its random id cannot clash).
      // Both boot at the lowest priority, as the warm pool's helpers do: a pool refilling must
      // not slow the pods starting meanwhile. The daemon starts conmon, and so us, at nice 19
      // already (Node's boot is most of our CPU); both return to the daemon's priority (the
      // stub's) once claimed, the helper with its plan.
      const priority = stub.priority ?? os.getPriority();
      helper = spawnInOciNamespaces(sys, stub.namespaces, () =>
        spawnHelper({ stdio: 'inherit', stdin: true, background: true, planPriority: priority }),
      );
      setNice(undefined, 19);
      if (!(await helper.booted)) throw new UserError('the container init exited while starting');
      fs.writeFileSync(path.join(bundle, POOLED_FILES.ready), '');
      config = await waitForPooledConfig(bundle, stub, { helperGone: helper.closed });
      setNice(undefined, priority);
    }
    const plan: OciCreatePlan = translateConfig(config, {
      id: opts.id,
      bundle,
      cgroupVersion: v2 ? 'v2' : 'v1',
      statKind,
      compileSeccomp: compileOciSeccomp,
    });
    for (const w of plan.warnings) opts.warn(w);
    if (statKind(plan.rootfs) !== 'dir') throw configError('root.path', `${plan.rootfs}: no such directory`);
    const userns = planUsernsSpawn(plan.namespaces);
    // The helper's fds from 4: the console socket, the exec fifo (any user namespace to set
    // up), then the preserved ones. In a user namespace the helper has no capability over host
    // root's directories, only its owner bits: a 0600 /run/containerd (made by the containerd
    // shim for its sockets) bars the path to our --root, so the fifo goes by descriptor, as
    // runc passes its init the exec fifo (_LIBCONTAINER_FIFOFD).
    const passFifo = userns !== undefined;
    const preserved = planPreservedFds(opts.preserveFds, (plan.terminal ? 1 : 0) + (passFifo ? 1 : 0), isOpenFd);
    checkConsoleRequest(plan.terminal, opts.consoleSocket);
    const mismatch =
      stub && (userns ? 'a user namespace to set up needs its own helper' : pooledMismatch(stub, plan.namespaces, plan.terminal));
    if (mismatch) throw new UserError(`pooled create: ${mismatch}`);

    const dir = store.claim(opts.id);
    claimed = true;
    const annotations = plan.annotations;
    record = {
      ociVersion: OCI_SPEC_VERSION,
      id: opts.id,
      pid: 0,
      pidStartTime: '',
      bundle,
      rootfs: plan.rootfs,
      created: new Date().toISOString(),
      annotations,
      hooks: { poststart: plan.hooks.poststart ?? [], poststop: plan.hooks.poststop ?? [] },
      terminal: plan.terminal,
    };
    store.save(record);
    const fifo = path.join(dir, 'exec.fifo');
    sys.mknod(fifo, 0o010000 | 0o622, 0, 0);
    // Exactly 0622 whatever our umask: the init opens it for writing as whoever it is by then.
    fs.chmodSync(fifo, 0o622);
    if (plan.idMappings) chownToNamespaceRoot(fifo, plan.idMappings);
    const container = plan.container;
    if (plan.cgroup) {
      cgroup = setupCgroup(plan.cgroup, mode);
      record.cgroup = recordedCgroup(cgroup);
      container.cgroupProcs = cgroup.procs;
      const hierarchies = Object.entries(cgroup.paths).map(([key, d]) => ({
        name: key === 'unified' && v2 ? '' : path.basename(fs.realpathSync(path.join(CGROUP_ROOT, key))),
        dir: d,
      }));
      container.mounts = expandCgroupMounts(container.mounts, hierarchies, v2, container.rootfs.mountPoint);
    }
    let execFifoFd: number | undefined;
    if (!helper) {
      // process.terminal: the console socket, connected here (the path is the caller's, outside
      // the container), goes to the helper as its fd 4 (src/oci/client/console-create.ts).
      const consoleFd = plan.terminal ? connectConsole(sys, opts.consoleSocket!) : undefined;
      const fifoFd = passFifo ? fs.openSync(fifo, O_PATH) : undefined;
      try {
        helper = spawnInOciNamespaces(sys, userns ? userns.joined : plan.namespaces, () =>
          spawnHelper({
            stdio: 'inherit',
            stdin: true,
            userNamespace: userns ? undefined : plan.namespaces.find((n) => n.type === 'user')?.path,
            newUserNamespace: userns,
            extraFds: [consoleFd, fifoFd, ...preserved.pass].filter((fd) => fd !== undefined),
          }),
        );
      } finally {
        if (consoleFd !== undefined) sys.close(consoleFd);
        if (fifoFd !== undefined) fs.closeSync(fifoFd);
      }
      if (consoleFd !== undefined) container.console = consolePlan(plan.consoleSize);
      if (fifoFd !== undefined) execFifoFd = consoleFd === undefined ? 4 : 5;
      if (preserved.plan) container.preserveFds = preserved.plan;
      if (!(await helper.booted)) throw new UserError('the container init exited while starting');
      // helper.pid is now the init's own (util-linux may have forked it as PID 1).
      if (plan.idMappings) writeIdMappings(helper.pid, plan.idMappings);
      // Joined by path, nsenter made the helper the namespace's root, which cannot open host
      // root's cgroup files: it is moved from here, as exec does for such a container.
      if (userns?.join) container.cgroupProcs = joinCgroupsFromHost(container.cgroupProcs, helper.pid);
    }
    const init = helper;
    const hookBase = { ociVersion: OCI_SPEC_VERSION, id: opts.id, pid: init.pid, bundle, annotations };
    const runtimeHooks = [...(plan.hooks.prestart ?? []), ...(plan.hooks.createRuntime ?? [])];
    const oci: OciPlanPart = {
      execFifo: fifo,
      syncBeforePivot: runtimeHooks.length > 0,
      createContainerHooks: plan.hooks.createContainer ?? [],
      startContainerHooks: plan.hooks.startContainer ?? [],
      hookState: hookBase,
    };
    if (execFifoFd !== undefined) oci.execFifoFd = execFifoFd;
    container.oci = oci;
    const created = waitForCreated(init, () => {
      // runtime.md: prestart (deprecated) and createRuntime run in the runtime's namespace.
      runHooksSync('prestart', plan.hooks.prestart, { ...hookBase, status: 'creating' });
      runHooksSync('createRuntime', plan.hooks.createRuntime, { ...hookBase, status: 'creating' });
    });
    init.control.write(encodeMessage(container));
    await created;
    const stat = readProcStat(init.pid);
    if (!stat) throw new UserError('the container init exited during create');
    record.pid = init.pid;
    record.pidStartTime = stat.startTime;
    store.save(record);
    if (opts.pidFile) {
      const pidFile = path.resolve(opts.pidFile);
      fs.writeFileSync(`${pidFile}.tmp`, String(init.pid));
      fs.renameSync(`${pidFile}.tmp`, pidFile);
    }
    return { record, helper: init };
  } catch (err) {
    if (helper) {
      const h = helper;
      discardHelper(h);
      await new Promise<void>((resolve) =>
        h.child.exitCode !== null || h.child.signalCode !== null ? resolve() : h.child.once('exit', () => resolve()),
      );
    }
    await destroyCgroup(record?.cgroup).catch(() => undefined);
    if (!record?.cgroup && cgroup?.owned) await cgroup.manager.destroy(cgroup.name).catch(() => undefined);
    if (claimed) store.remove(opts.id);
    throw err;
  }
}

/** Lets this process exit while the init waits for `start`: nothing of ours keeps it or us. */
export function detachInit(helper: Helper): void {
  helper.control.destroy();
  helper.child.unref();
}
