/**
 * ContainerPlan -> config.json: **the pod path's contract** (issue #15, item 4). The pod layer
 * writes one config.json per container with this function and runs it through the same
 * executor as any OCI client (conmon calling `minipod-oci create --bundle B ...`), so every
 * container, in a pod or not, is made by one path. translateConfig (translate.ts) reads it back
 * to the same plan: `translateConfig(ociConfigFromPlan(plan, extras)).container` deep-equals
 * `plan` (test/unit/oci/from-plan.test.ts holds both sides to it).
 *
 * What config.json has a field for goes there (process, mounts, devices, masked and read-only
 * paths, rlimits, capabilities by name, LSM labels, the namespaces the pod shares as `path`
 * entries such as /proc/<init>/ns/net). What it has none for goes in `minipod.io/...`
 * annotations (annotations.ts), as crun keeps its extensions in `run.oci.*`: the overlay
 * layers mounted inside the container's mount namespace, the cgroups the pod made (joined,
 * never written: the pod owns their limits), the cgroup view, the user as the image names it
 * with the pod's groups and strict-groups policy, runAsNonRoot, the compiled seccomp filter,
 * the pod's user namespace, the /dev symlinks and which bind mounts are files.
 */
import type { ContainerPlan, DeviceNode } from '../../plan/types.js';
import type { NamespaceRequest } from './linux.js';
import { ANNOTATION } from './annotations.js';
import { mountToOci, propagationOption } from './mounts.js';
import { capabilityName } from './process.js';
import type { OciConfig, OciDevice, OciHooks, OciProcess } from './types.js';
import { OCI_SPEC_VERSION } from '../cli/version.js';

export interface PlanConfigExtras {
  /**
   * The container's namespaces: `path` for those it shares with the pod
   * (`{ type: 'network', path: '/proc/<init>/ns/net' }`), none for new ones. A mount namespace
   * is always added (each container has its own).
   */
  namespaces: NamespaceRequest[];
  annotations?: Record<string, string>;
  hooks?: OciHooks;
}

function deviceToOci(d: DeviceNode): OciDevice {
  const type = (d.mode & 0o170000) === 0o060000 ? 'b' : (d.mode & 0o170000) === 0o010000 ? 'p' : 'c';
  const out: OciDevice = { type, path: d.path, major: d.major, minor: d.minor, fileMode: d.mode & 0o7777 };
  if (d.uid !== undefined) out.uid = d.uid;
  if (d.gid !== undefined) out.gid = d.gid;
  return out;
}

export function ociConfigFromPlan(plan: ContainerPlan, extras: PlanConfigExtras): OciConfig {
  const p = plan.process;
  const names = (bits: readonly number[]): string[] => bits.map(capabilityName);
  const process: OciProcess = {
    terminal: false,
    user: { uid: p.user.uid ?? 0, gid: p.user.gid ?? 0, additionalGids: p.user.groups ?? [] },
    args: p.args,
    env: p.env,
    cwd: p.cwd,
    capabilities: {
      bounding: names(p.capabilities.bounding),
      effective: names(p.capabilities.effective),
      permitted: names(p.capabilities.permitted),
      inheritable: names(p.capabilities.inheritable),
      ambient: names(p.capabilities.ambient),
    },
    noNewPrivileges: p.noNewPrivileges,
  };
  if (p.umask !== undefined) process.user.umask = p.umask;
  if (p.rlimits) process.rlimits = p.rlimits;
  if (p.oomScoreAdj !== undefined) process.oomScoreAdj = p.oomScoreAdj;
  for (const l of p.lsmLabels ?? []) {
    if (l.module === 'apparmor') process.apparmorProfile = l.label;
    else process.selinuxLabel = l.label;
  }

  const annotations: Record<string, string> = {
    ...extras.annotations,
    [ANNOTATION.id]: plan.id,
    [ANNOTATION.user]: JSON.stringify(p.user),
    [ANNOTATION.symlinks]: JSON.stringify(plan.symlinks),
    [ANNOTATION.fileMounts]: JSON.stringify(
      plan.mounts.filter((m) => m.fstype === 'bind' && m.destinationKind === 'file').map((m) => m.destination),
    ),
    [ANNOTATION.cgroupProcs]: JSON.stringify(plan.cgroupProcs),
  };
  if (!plan.rootfs.bind) {
    annotations[ANNOTATION.overlay] = JSON.stringify({
      lowerDirs: plan.rootfs.lowerDirs,
      upperDir: plan.rootfs.upperDir,
      workDir: plan.rootfs.workDir,
    });
  }
  if (plan.cgroupView) annotations[ANNOTATION.cgroupView] = JSON.stringify(plan.cgroupView);
  if (p.runAsNonRoot) annotations[ANNOTATION.runAsNonRoot] = 'true';
  if (p.seccomp) annotations[ANNOTATION.seccomp] = JSON.stringify(p.seccomp);
  if (plan.inUserNamespace) annotations[ANNOTATION.inUserNamespace] = 'true';

  const namespaces = extras.namespaces.filter((n) => n.type !== 'mount' && n.type !== 'cgroup');
  namespaces.push({ type: 'mount' });
  if (plan.cgroupView?.namespace) namespaces.push({ type: 'cgroup' });

  const config: OciConfig = {
    ociVersion: OCI_SPEC_VERSION,
    root: { path: plan.rootfs.mountPoint, readonly: plan.rootfs.readOnly },
    mounts: plan.mounts.map(mountToOci),
    process,
    annotations,
    linux: {
      namespaces,
      devices: plan.devices.map(deviceToOci),
      maskedPaths: plan.maskedPaths,
      readonlyPaths: plan.readonlyPaths,
    },
  };
  const rootPropagation = plan.rootfs.propagation && propagationOption(plan.rootfs.propagation);
  if (rootPropagation) config.linux!.rootfsPropagation = rootPropagation;
  if (plan.hostname !== undefined) config.hostname = plan.hostname;
  if (plan.domainname !== undefined) config.domainname = plan.domainname;
  if (plan.sysctls) config.linux!.sysctl = Object.fromEntries(plan.sysctls);
  if (extras.hooks) config.hooks = extras.hooks;
  return config;
}
