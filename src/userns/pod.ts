/**
 * What a pod with its own user namespace needs done differently, in one place: take an id
 * range, start the init through unshare, give emptyDirs to the pod's root, mount each
 * container's root idmapped from the host, and move helpers into their cgroups from the host
 * (the pod's root cannot write the host's cgroup files). See docs/security.md.
 *
 * The warm pool's sandboxes have no user namespace: such a pod never takes one (supervisor.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PodSpec } from '../manifest/types.js';
import type { MinipodPaths } from '../paths.js';
import type { ContainerPlan } from '../plan/types.js';
import type { PodLayout } from '../paths.js';
import { HELPER_EXECUTABLES, type Helper } from '../process/helper-client.js';
import type { Syscall } from '../syscall/syscall.js';
import { allocateRange } from './allocator.js';
import { startUsernsPodInit } from './pod-init.js';
import { usesUserNamespace } from './policy.js';
import type { IdRange } from './ranges.js';
import { detachHostRootfs, mountIdmappedRootfs, planIdmappedRootfs } from './rootfs.js';
import { detachIdmappedVolumes, mountIdmappedVolumes } from './volumes.js';

export interface UsernsHost {
  paths: MinipodPaths;
  sys: Syscall;
}

export class UsernsPod {
  private initPid?: number;

  private constructor(
    private readonly host: UsernsHost,
    readonly range: IdRange,
    private readonly hostname: string,
  ) {}

  /** The pod's range when it gets a user namespace; undefined when it shares the host's users. */
  static async create(spec: PodSpec, host: UsernsHost, layout: PodLayout): Promise<UsernsPod | undefined> {
    if (!usesUserNamespace(spec)) return undefined;
    // The pod's root must be able to walk to its bind sources and container roots, and its
    // helpers (which run as the range's root) to node and the helper script: minipod may be
    // checked out under a mode-0700 directory such as /root.
    fs.mkdirSync(layout.libDir, { recursive: true, mode: 0o700 });
    const executableDirs = HELPER_EXECUTABLES.map((file) => path.dirname(file));
    const range = await allocateRange(host.sys, host.paths, spec.name, [layout.runDir, layout.libDir, ...executableDirs]);
    return new UsernsPod(host, range, spec.hostname);
  }

  async startInit(layout: PodLayout, initBinary: string): Promise<Helper> {
    const helper = await startUsernsPodInit({
      sys: this.host.sys,
      range: this.range,
      initRoot: layout.initRoot,
      initBinary,
      hostname: this.hostname,
    });
    this.initPid = helper.pid;
    return helper;
  }

  /** What container helpers join (through nsenter). */
  namespacePath(): string {
    return `/proc/${this.initPid}/ns/user`;
  }

  /**
   * emptyDirs belong to the pod's root, as they belong to root in a pod without one; so does a
   * gitRepo volume's clone, file by file (lchown: a symlink of the repository is not followed;
   * no container runs yet to race the walk).
   */
  chownVolumes(spec: PodSpec, byName: Record<string, string>): void {
    const { base } = this.range;
    for (const v of spec.volumes) {
      const dir = byName[v.name];
      if (!dir) continue;
      if (v.source.kind === 'emptyDir') fs.chownSync(dir, base, base);
      if (v.source.kind === 'gitRepo') {
        fs.lchownSync(dir, base, base);
        for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) fs.lchownSync(path.join(dir, entry), base, base);
      }
    }
  }

  /**
   * Mounts the container's root on the host and puts the helper in its cgroups when the early
   * move did not (`joinProcs` not empty); returns the plan to send.
   */
  async prepareContainer(plan: ContainerPlan, helper: Helper, joinProcs: string[], joinCgroups: () => void): Promise<ContainerPlan> {
    const fd = fs.openSync(this.namespacePath(), 'r');
    let withVolumes: ContainerPlan;
    try {
      mountIdmappedRootfs(this.host.sys, planIdmappedRootfs(plan.rootfs, this.range), fd);
      withVolumes = mountIdmappedVolumes(this.host.sys, plan, fd);
    } catch (err) {
      this.afterExec(plan);
      throw err;
    } finally {
      fs.closeSync(fd);
    }
    if (joinProcs.length > 0) {
      // Node's start-up is not charged to the container: join once it has booted.
      await helper.booted;
      joinCgroups();
    }
    return { ...withVolumes, cgroupProcs: [], inUserNamespace: true };
  }

  /** The helper has its own copy of the root and volumes by now (or failed): the host's go. */
  afterExec(plan: ContainerPlan): void {
    detachIdmappedVolumes(this.host.sys, plan);
    detachHostRootfs(this.host.sys, plan.rootfs.mountPoint);
  }
}
