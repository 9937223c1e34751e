import { capabilityBits } from '../../../src/process/host-capabilities.js';
import { describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { containerArgs, containerCapabilities, containerEnv, planContainer, type ContainerHostDirs } from '../../../src/plan/container.js';
import { capabilityBit } from '../../../native-bindings/constants.js';

function podOf(container: object, extra: object = {}) {
  return parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'img', ...container }], ...extra },
    }),
    { manifestDir: '/m' },
  );
}

const dirs: ContainerHostDirs = {
  lowerDirs: ['/img'],
  upperDir: '/u',
  workDir: '/w',
  mountPoint: '/r',
  etcHosts: '/h',
  etcHostname: '/hn',
  resolvConf: '/rc',
  shm: '/shm',
  volumes: { data: '/vol/data', conf: '/vol/conf' },
  subPaths: { 'conf/nginx.conf': '/vol/conf/nginx.conf' },
};

describe('containerArgs (Kubernetes rule)', () => {
  const image = { entrypoint: ['/entry'], cmd: ['--default'] };
  it.each([
    [{}, ['/entry', '--default']],
    [{ command: ['/bin/x'] }, ['/bin/x']],
    [{ args: ['--flag'] }, ['/entry', '--flag']],
    [{ command: ['/bin/x'], args: ['a'] }, ['/bin/x', 'a']],
  ])('%j -> %j', (c, expected) => {
    expect(containerArgs(podOf(c).containers[0]!, image)).toEqual(expected);
  });
});

describe('containerEnv', () => {
  it('puts PATH, image env, HOSTNAME, then the container env, later names winning', () => {
    const pod = podOf({
      env: [
        { name: 'A', value: '1' },
        { name: 'PATH', value: '/only' },
      ],
    });
    expect(containerEnv(pod, pod.containers[0]!, { env: ['A=image', 'B=2'] })).toEqual(['PATH=/only', 'A=1', 'B=2', 'HOSTNAME=p']);
  });
});

describe('containerCapabilities', () => {
  const bits = (names: string[]) => names.map(capabilityBit).sort((a, b) => a - b);
  it("is Docker's default set", () => {
    expect(containerCapabilities(podOf({}).containers[0]!)).toHaveLength(14);
  });
  it('drops ALL then adds', () => {
    const c = podOf({ securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }).containers[0]!;
    expect(containerCapabilities(c)).toEqual(bits(['NET_BIND_SERVICE']));
  });
  it('gives everything to privileged containers', () => {
    expect(containerCapabilities(podOf({ securityContext: { privileged: true } }).containers[0]!)).toHaveLength(41);
  });
  it('gives privileged containers all that the host holds, and keeps a capability added by name', () => {
    // A host whose bounding set lacks SYS_RESOURCE (24), as this project's CI machines.
    const host = capabilityBits('000001fffeffffff');
    expect(host).not.toContain(24);
    const privileged = containerCapabilities(podOf({ securityContext: { privileged: true } }).containers[0]!, host);
    expect(privileged).toHaveLength(40);
    expect(privileged).not.toContain(24);
    const added = podOf({ securityContext: { capabilities: { add: ['ALL', 'SYS_RESOURCE'] } } }).containers[0]!;
    expect(containerCapabilities(added, host)).toContain(24);
  });
});

describe('planContainer', () => {
  it('mounts proc, dev, shm, sys, the etc files and volumes (parents first), masks /proc', () => {
    const pod = podOf(
      {
        volumeMounts: [
          { name: 'data', mountPath: '/data/cache', readOnly: true },
          { name: 'data', mountPath: '/data' },
          { name: 'conf', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf' },
        ],
        securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'] } },
      },
      {
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'conf', emptyDir: {} },
        ],
      },
    );
    const plan = planContainer({
      pod,
      container: pod.containers[0]!,
      image: {},
      dirs,
      cgroupProcs: ['/cg/cgroup.procs'],
      isFile: (p) => p.endsWith('.conf'),
    });
    expect(plan.mounts.map((m) => m.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/shm',
      '/dev/mqueue',
      '/sys',
      '/etc/hosts',
      '/etc/hostname',
      '/etc/resolv.conf',
      '/data',
      '/data/cache',
      '/etc/nginx/nginx.conf',
    ]);
    const sub = plan.mounts.at(-1)!;
    expect(sub).toMatchObject({ source: '/vol/conf/nginx.conf', destinationKind: 'file', fstype: 'bind' });
    expect(plan.mounts.find((m) => m.destination === '/data/cache')!.readOnly).toBe(true);
    expect(plan.mounts.find((m) => m.destination === '/sys')!.readOnly).toBe(true);
    expect(plan.maskedPaths).toContain('/proc/kcore');
    expect(plan.readonlyPaths).toContain('/proc/sysrq-trigger');
    expect(plan.process.noNewPrivileges).toBe(true);
    expect(plan.process.user).toEqual({ uid: 1000 });
    // A non-root user keeps only what the manifest added, as ambient capabilities.
    expect(plan.process.capabilities.ambient).toEqual([capabilityBit('NET_ADMIN')]);
    expect(plan.cgroupProcs).toEqual(['/cg/cgroup.procs']);
  });

  it('puts the cgroup view after /sys and before the volumes, its tmpfs read-only at the end', () => {
    const pod = podOf({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }, { volumes: [{ name: 'data', emptyDir: {} }] });
    const cgroups = {
      mode: 'hybrid' as const,
      dirs: { memory: '/sys/fs/cgroup/memory/minipod/p/c', unified: '/sys/fs/cgroup/unified/minipod/p/c' },
    };
    const plan = planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: () => false, cgroups });
    expect(plan.mounts.map((m) => m.destination).slice(5)).toEqual([
      '/sys',
      '/etc/hosts',
      '/etc/hostname',
      '/etc/resolv.conf',
      '/sys/fs/cgroup',
      '/sys/fs/cgroup/memory',
      '/data',
    ]);
    expect(plan.readonlyPaths.at(-1)).toBe('/sys/fs/cgroup');
    expect(plan.cgroupView).toEqual({ namespace: true });
  });

  it('procMount Unmasked leaves /proc unmasked and writable, and still hides /sys/firmware', () => {
    // Decoded as Default, then set: the manifest accepts Unmasked only with hostUsers: false.
    const pod = podOf({});
    pod.containers[0]!.securityContext.procMount = 'Unmasked';
    const plan = planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: () => false });
    expect(plan.maskedPaths.filter((p) => p.startsWith('/proc/'))).toEqual([]);
    expect(plan.maskedPaths).toContain('/sys/firmware');
    expect(plan.readonlyPaths).toEqual([]);
  });

  it('leaves /sys writable and nothing masked for privileged containers', () => {
    const pod = podOf({ securityContext: { privileged: true } });
    const plan = planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: () => false });
    expect(plan.maskedPaths).toEqual([]);
    expect(plan.mounts.find((m) => m.destination === '/sys')!.readOnly).toBe(false);
  });

  const hostDevices = [
    { path: '/dev/null', major: 1, minor: 3, mode: 0o20666 },
    { path: '/dev/kmsg', major: 1, minor: 11, mode: 0o20644 },
    { path: '/dev/loop0', major: 7, minor: 0, mode: 0o60660 },
    { path: '/dev/net/tun', major: 10, minor: 200, mode: 0o20666 },
    { path: '/dev/ptmx', major: 5, minor: 2, mode: 0o20666 },
  ];
  const devicePlan = (container: object, volumes: object[] = []) => {
    const pod = podOf(container, { volumes });
    return planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: () => false, hostDevices });
  };

  it('gives an unprivileged container the default devices on a nodev /dev, and its volumes nodev', () => {
    const plan = devicePlan({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }, [{ name: 'data', emptyDir: {} }]);
    expect(plan.devices.map((d) => d.path)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    expect(plan.mounts.find((m) => m.destination === '/dev')!.flags).toContain('NODEV');
    expect(plan.mounts.find((m) => m.destination === '/data')!.flags).toEqual(['NODEV']);
  });

  it('keeps a hostPath under /dev openable: that is how a pod is given a device', () => {
    const plan = devicePlan({ volumeMounts: [{ name: 'data', mountPath: '/dev/fuse' }] }, [
      { name: 'data', hostPath: { path: '/dev/fuse', type: 'CharDevice' } },
    ]);
    expect(plan.mounts.find((m) => m.destination === '/dev/fuse')!.flags).toEqual([]);
  });

  it('gives a privileged container every host device (but its own /dev/ptmx) on a /dev that allows them', () => {
    const plan = devicePlan({ securityContext: { privileged: true }, volumeMounts: [{ name: 'data', mountPath: '/data' }] }, [
      { name: 'data', emptyDir: {} },
    ]);
    const paths = plan.devices.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['/dev/null', '/dev/tty', '/dev/kmsg', '/dev/loop0', '/dev/net/tun']));
    expect(paths).not.toContain('/dev/ptmx');
    expect(paths.filter((p) => p === '/dev/null')).toHaveLength(1);
    expect(plan.mounts.find((m) => m.destination === '/dev')!.flags).not.toContain('NODEV');
    expect(plan.mounts.find((m) => m.destination === '/data')!.flags).toEqual([]);
  });
});

describe('$(VAR) expansion, as kubelet does it', () => {
  it('expands env from earlier variables and command/args from the whole environment', () => {
    const pod = podOf({
      command: ['echo', '$(GREETING)', '$$(GREETING)', '$(UNDEFINED)'],
      args: ['$(HOSTNAME)'],
      env: [
        { name: 'NAME', value: 'world' },
        { name: 'GREETING', value: 'hello $(NAME)' },
      ],
    });
    const plan = planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: () => false });
    expect(plan.process.args).toEqual(['echo', 'hello world', '$(GREETING)', '$(UNDEFINED)', 'p']);
    expect(plan.process.env).toContain('GREETING=hello world');
  });
});
