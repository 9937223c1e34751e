import { describe, expect, it } from 'vitest';
import { CLONE, MS } from '../../../native-bindings/constants.js';
import { planCgroupView } from '../../../src/plan/cgroup-view.js';
import { enterCgroupView } from '../../../src/rootfs/cgroup-view.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

const HYBRID_DIRS = {
  memory: '/sys/fs/cgroup/memory/minipod/p/c',
  cpu: '/sys/fs/cgroup/cpu/minipod/p/c',
  pids: '/sys/fs/cgroup/pids/minipod/p/c',
  systemd: '/sys/fs/cgroup/systemd/minipod/p/c',
  unified: '/sys/fs/cgroup/unified/minipod/p/c',
};

describe('planCgroupView', () => {
  it("v1 and hybrid: a tmpfs, the container's own directory of each controller bound read-only, the tmpfs made read-only", () => {
    const planned = planCgroupView({ mode: 'hybrid', dirs: HYBRID_DIRS, privileged: false });
    expect(planned.mounts).toEqual([
      {
        source: 'tmpfs',
        destination: '/sys/fs/cgroup',
        fstype: 'tmpfs',
        flags: ['NOSUID', 'NODEV', 'NOEXEC'],
        data: 'mode=755,size=64k',
        destinationKind: 'dir',
        readOnly: false,
      },
      ...['cpu', 'memory', 'pids', 'systemd'].map((c) => ({
        source: `/sys/fs/cgroup/${c}/minipod/p/c`,
        destination: `/sys/fs/cgroup/${c}`,
        fstype: 'bind',
        flags: ['NOSUID', 'NODEV', 'NOEXEC'],
        destinationKind: 'dir',
        readOnly: true,
      })),
    ]);
    // The controller-less unified/ of a hybrid host is not shown (runc does not either).
    expect(planned.mounts.some((m) => m.source.includes('unified'))).toBe(false);
    expect(planned.readonlyPaths).toEqual(['/sys/fs/cgroup']);
    expect(planned.view).toEqual({ namespace: true });
  });

  it('v1 privileged: writable, as Docker and podman do', () => {
    const planned = planCgroupView({ mode: 'legacy', dirs: { memory: '/m/c' }, privileged: true });
    expect(planned.mounts.every((m) => !m.readOnly)).toBe(true);
    expect(planned.readonlyPaths).toEqual([]);
  });

  it('v2: no mount steps, a cgroup namespace and a read-only cgroup2 mount after joining', () => {
    const planned = planCgroupView({ mode: 'unified', dirs: { unified: '/sys/fs/cgroup/minipod/p/c' }, privileged: false });
    expect(planned).toEqual({ mounts: [], readonlyPaths: [], view: { namespace: true, cgroup2: { readOnly: true } } });
    expect(planCgroupView({ mode: 'unified', dirs: {}, privileged: true }).view.cgroup2).toEqual({ readOnly: false });
  });
});

describe('enterCgroupView', () => {
  it('v2: unshares the cgroup namespace, then mounts cgroup2 read-only at /sys/fs/cgroup', () => {
    const sys = new RecordingSyscall();
    enterCgroupView(sys, { namespace: true, cgroup2: { readOnly: true } });
    expect(sys.calls).toEqual([
      { name: 'unshare', args: [CLONE.NEWCGROUP] },
      { name: 'mount', args: ['cgroup2', '/sys/fs/cgroup', 'cgroup2', MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, null] },
    ]);
  });

  it('v1: only the namespace (the binds were made before the pivot)', () => {
    const sys = new RecordingSyscall();
    enterCgroupView(sys, { namespace: true });
    expect(sys.calls).toEqual([{ name: 'unshare', args: [CLONE.NEWCGROUP] }]);
  });

  it('names the step that failed', () => {
    const sys = new RecordingSyscall();
    sys.failNext('mount', 1);
    expect(() => enterCgroupView(sys, { namespace: true, cgroup2: { readOnly: true } })).toThrow(/mount \/sys\/fs\/cgroup/);
  });
});
