import { describe, expect, it } from 'vitest';
import { translateConfig, type TranslateInput } from '../../../src/oci/config/translate.js';
import { defaultSpec } from '../../../src/oci/commands/spec.js';
import { resourceWrites } from '../../../src/oci/config/resources.js';
import { capabilityBit } from '../../../native-bindings/constants.js';
import { parseProfile } from '../../../src/seccomp/profile.js';

const input: TranslateInput = {
  id: 'c1',
  bundle: '/b',
  cgroupVersion: 'v1',
  statKind: (p) => (p.endsWith('.conf') ? 'file' : p.startsWith('/missing') ? undefined : 'dir'),
  compileSeccomp: (profile) => {
    parseProfile(JSON.stringify(profile)); // The real parser's refusals; compiling needs libseccomp.
    return { profile: 'config.json', program: Buffer.from(JSON.stringify(profile)).toString('base64'), flags: 0 };
  },
};

function config(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = JSON.parse(JSON.stringify(defaultSpec()));
  c.process.terminal = false;
  edit(c);
  return c;
}

const translate = (edit?: (c: Record<string, any>) => void, over: Partial<TranslateInput> = {}) =>
  translateConfig(config(edit), { ...input, ...over });

describe("translateConfig: runc spec's default config", () => {
  it('becomes a plan with the root bound in place, the namespaces to make, a cgroup per container', () => {
    const plan = translate();
    expect(plan.container.rootfs).toEqual({
      lowerDirs: [],
      upperDir: '',
      workDir: '',
      mountPoint: '/b/rootfs',
      readOnly: true,
      bind: true,
    });
    expect(plan.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(plan.container.hostname).toBe('minipod');
    expect(plan.container.cgroupView).toEqual({ namespace: true });
    expect(plan.cgroup).toEqual({
      path: 'minipod-oci/c1',
      writes: expect.arrayContaining([{ controller: 'devices', file: 'devices.deny', value: 'a', field: 'linux.resources.devices' }]),
    });
    expect(plan.container.process).toMatchObject({
      args: ['sh'],
      cwd: '/',
      user: { uid: 0, gid: 0, groups: [], strictGroups: true },
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
    });
    expect(plan.container.process.capabilities.bounding).toEqual(['AUDIT_WRITE', 'KILL', 'NET_BIND_SERVICE'].map(capabilityBit));
    // Ambient needs inheritable: dropped, and said.
    expect(plan.container.process.capabilities.ambient).toEqual([]);
    expect(plan.warnings[0]).toMatch(/^process.capabilities.ambient: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE not raised/);
    expect(plan.container.devices.map((d) => d.path)).toEqual([
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/random',
      '/dev/urandom',
      '/dev/tty',
    ]);
    expect(plan.container.maskedPaths).toContain('/proc/kcore');
    expect(plan.container.readonlyPaths).toContain('/proc/sys');
  });

  it('translates mount options: flags, ro, data in order, bind vs rbind, propagation', () => {
    const plan = translate((c) => {
      c.mounts.push({ destination: '/data', source: 'vol', options: ['bind', 'ro', 'nosuid', 'rslave'] });
      c.mounts.push({ destination: '/all', source: '/host', type: 'bind', options: ['rbind'] });
      c.mounts.push({ destination: '/etc/x.conf', source: '/h/x.conf', options: ['rbind', 'rw'] });
    });
    const m = plan.container.mounts;
    expect(m.find((x) => x.destination === '/dev')).toEqual({
      source: 'tmpfs',
      destination: '/dev',
      fstype: 'tmpfs',
      flags: ['NOSUID', 'STRICTATIME'],
      data: 'mode=755,size=65536k',
      destinationKind: 'dir',
      readOnly: false,
    });
    expect(m.find((x) => x.destination === '/sys')!.readOnly).toBe(true);
    expect(m.find((x) => x.destination === '/data')).toEqual({
      source: '/b/vol',
      destination: '/data',
      fstype: 'bind',
      flags: ['NOSUID'],
      destinationKind: 'dir',
      readOnly: true,
      nonRecursive: true,
      propagation: ['REC', 'SLAVE'],
    });
    expect(m.find((x) => x.destination === '/all')!.nonRecursive).toBeUndefined();
    expect(m.find((x) => x.destination === '/etc/x.conf')!.destinationKind).toBe('file');
  });

  it('joins namespaces by path and keeps sysctls that its own namespaces make safe', () => {
    const plan = translate((c) => {
      c.linux.namespaces = [{ type: 'network', path: '/proc/9/ns/net' }, { type: 'mount' }, { type: 'ipc' }];
      delete c.hostname;
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' };
    });
    expect(plan.namespaces).toEqual([{ type: 'network', path: '/proc/9/ns/net' }, { type: 'mount' }, { type: 'ipc' }]);
    expect(plan.container.sysctls).toEqual([
      ['net.ipv4.ip_forward', '1'],
      ['kernel.shmmax', '1000'],
    ]);
  });

  it('compiles linux.seccomp for the bounding set and carries hooks and annotations', () => {
    const plan = translate((c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
      c.hooks = { prestart: [{ path: '/bin/true', timeout: 3 }], poststop: [{ path: '/bin/x', args: ['x', '1'], env: ['A=1'] }] };
      c.annotations = { 'org.example': 'v' };
    });
    expect(plan.container.process.seccomp!.profile).toBe('config.json');
    expect(plan.hooks).toEqual({
      prestart: [{ path: '/bin/true', timeout: 3 }],
      poststop: [{ path: '/bin/x', args: ['x', '1'], env: ['A=1'] }],
    });
    expect(plan.annotations).toEqual({ 'org.example': 'v' });
  });

  it('ignores properties the spec does not have (config.md: MUST ignore unknown properties)', () => {
    expect(() => translate((c) => (c.someExtension = { x: 1 }))).not.toThrow();
  });
});

describe('translateConfig: a new user namespace', () => {
  const userns = (c: Record<string, any>): void => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };

  it('keeps the maps for the runtime and tells the helper to become its root', () => {
    const plan = translate(userns);
    expect(plan.idMappings).toEqual({
      uid: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gid: [{ containerID: 0, hostID: 100000, size: 65536 }],
    });
    expect(plan.container.newUserNamespace).toBe(true);
    expect(plan.namespaces.find((n) => n.type === 'user')).toEqual({ type: 'user' });
  });

  it('has no maps without a user namespace, or with one joined by path', () => {
    expect(translate().idMappings).toBeUndefined();
    const joined = translate((c) => c.linux.namespaces.push({ type: 'user', path: '/proc/9/ns/user' }));
    expect(joined.idMappings).toBeUndefined();
    expect(joined.container.newUserNamespace).toBeUndefined();
  });

  it.each<[string, (c: Record<string, any>) => void, RegExp]>([
    ['no uid map', (c) => (c.linux.uidMappings = []), /^config.json: linux.uidMappings: is empty: a new user namespace needs its uid map/],
    ['no gid map', (c) => delete c.linux.gidMappings, /^config.json: linux.gidMappings: is empty/],
    [
      'overlapping container ids',
      (c) => c.linux.uidMappings.push({ containerID: 1000, hostID: 300000, size: 10 }),
      /^config.json: linux.uidMappings\[1\]: container ids 1000-1009 overlap linux.uidMappings\[0\]/,
    ],
    [
      'overlapping host ids',
      (c) =>
        (c.linux.gidMappings = [
          { containerID: 0, hostID: 100000, size: 10 },
          { containerID: 10, hostID: 100005, size: 10 },
        ]),
      /^config.json: linux.gidMappings\[1\]: host ids 100005-100014 overlap linux.gidMappings\[0\]/,
    ],
    [
      'too big',
      (c) => (c.linux.uidMappings[0].size = 2 ** 32 - 100000),
      /^config.json: linux.uidMappings\[0\]: hostID 100000 \+ size 4294867296 goes past the last id/,
    ],
    ['size 0', (c) => (c.linux.uidMappings[0].size = 0), /linux.uidMappings\[0\].size: is 0/],
    ['negative id', (c) => (c.linux.uidMappings[0].hostID = -1), /linux.uidMappings\[0\].hostID: -1 is not an unsigned integer/],
    ['root unmapped', (c) => (c.linux.uidMappings[0].containerID = 1), /linux.uidMappings: maps no container uid 0/],
    ['unmapped user', (c) => (c.process.user.uid = 70000), /^config.json: process.user.uid: 70000 is not mapped by linux.uidMappings/],
    [
      'unmapped additional gid',
      (c) => (c.process.user.additionalGids = [5, 70000]),
      /^config.json: process.user.additionalGids\[1\]: 70000 is not mapped by linux.gidMappings/,
    ],
    [
      'mappings with a path',
      (c) => (c.linux.namespaces[c.linux.namespaces.length - 1].path = '/proc/9/ns/user'),
      /linux.uidMappings: is given with a user namespace path/,
    ],
    [
      'more lines than the kernel takes',
      (c) => (c.linux.uidMappings = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }))),
      /linux.uidMappings: has 341 entries; the kernel takes at most 340/,
    ],
  ])('%s', (_name, edit, message) => {
    expect(() =>
      translate((c) => {
        userns(c);
        edit(c);
      }),
    ).toThrow(message);
  });
});

describe('translateConfig refuses, naming the field', () => {
  it.each<[string, (c: Record<string, any>) => void, RegExp]>([
    ['intelRdt', (c) => (c.linux.intelRdt = { closID: 'x' }), /^config.json: linux.intelRdt: not supported/],
    ['time namespace', (c) => c.linux.namespaces.push({ type: 'time' }), /^config.json: linux.namespaces\[6\]: time namespaces/],
    ['repeated namespace', (c) => c.linux.namespaces.push({ type: 'pid' }), /linux.namespaces\[6\].type: the pid namespace is given twice/],
    [
      'mappings without a user namespace',
      (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      /^config.json: linux.uidMappings: needs a new user namespace/,
    ],
    ['no mount namespace', (c) => (c.linux.namespaces = [{ type: 'pid' }]), /linux.namespaces: minipod-oci needs a mount namespace/],
    ['hostname without uts', (c) => (c.linux.namespaces = [{ type: 'mount' }]), /^config.json: hostname: needs a new uts namespace/],
    ['empty args', (c) => (c.process.args = []), /process.args: must hold at least/],
    ['relative cwd', (c) => (c.process.cwd = 'x'), /process.cwd: "x" is not an absolute path/],
    [
      'unknown capability',
      (c) => c.process.capabilities.bounding.push('CAP_NOPE'),
      /process.capabilities.bounding\[3\]: unknown capability "CAP_NOPE"/,
    ],
    ['unknown rlimit', (c) => c.process.rlimits.push({ type: 'RLIMIT_X', soft: 1, hard: 1 }), /process.rlimits\[1\].type: "RLIMIT_X"/],
    [
      'repeated rlimit',
      (c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }),
      /process.rlimits\[1\].type: RLIMIT_NOFILE is given twice/,
    ],
    ['soft above hard', (c) => (c.process.rlimits[0].soft = 5000), /process.rlimits\[0\]: soft 5000 is above hard 1024/],
    ['oomScoreAdj', (c) => (c.process.oomScoreAdj = 2000), /process.oomScoreAdj: 2000 is outside/],
    ['host sysctl', (c) => (c.linux.sysctl = { 'vm.swappiness': '1' }), /linux.sysctl.vm.swappiness: is not namespaced/],
    [
      'sysctl without its namespace',
      (c) => ((c.linux.namespaces = [{ type: 'mount' }, { type: 'uts' }]), (c.linux.sysctl = { 'net.core.somaxconn': '1' })),
      /needs the container to have its own network namespace/,
    ],
    ['hook path', (c) => (c.hooks = { poststart: [{ path: 'rel' }] }), /hooks.poststart\[0\].path: "rel" is not an absolute path/],
    [
      'hook timeout',
      (c) => (c.hooks = { poststop: [{ path: '/x', timeout: 0 }] }),
      /hooks.poststop\[0\].timeout: must be a positive integer/,
    ],
    [
      'idmapped mount',
      (c) => c.mounts.push({ destination: '/x', source: '/y', options: ['rbind', 'idmap'] }),
      /mounts\[7\].options\[1\]: "idmap" is not supported/,
    ],
    [
      'missing bind source',
      (c) => c.mounts.push({ destination: '/x', source: '/missing', options: ['rbind'] }),
      /mounts\[7\].source: \/missing: no such file/,
    ],
    ['systemd cgroupsPath', (c) => (c.linux.cgroupsPath = 'system.slice:docker:abc'), /linux.cgroupsPath: .* systemd slice/],
    ['kernel memory', (c) => (c.linux.resources.memory = { kernel: 1 }), /linux.resources.memory.kernel: kernel memory limits/],
    ['network resources', (c) => (c.linux.resources.network = { classID: 1 }), /linux.resources.network: not supported/],
    ['seccomp notify', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x' }), /^config.json: linux.seccomp: /],
    ['personality', (c) => (c.linux.personality = { domain: 'LINUX32' }), /linux.personality: only the default LINUX domain/],
    ['windows', (c) => (c.windows = {}), /^config.json: windows: is for another platform/],
    ['mountLabel', (c) => (c.linux.mountLabel = 'system_u:object_r:x:s0'), /linux.mountLabel: SELinux mount labels/],
  ])('%s', (_name, edit, error) => {
    expect(() => translate(edit)).toThrow(error);
  });
});

describe('resourceWrites', () => {
  const res = {
    memory: { limit: 1 << 26, swap: 1 << 27, reservation: 1 << 25 },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
    pids: { limit: 10 },
    blockIO: { weight: 500 },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
  };
  it('writes v1 files per controller', () => {
    expect(resourceWrites(res, 'v1').map((w) => `${w.controller}/${w.file}=${w.value}`)).toEqual([
      'memory/memory.limit_in_bytes=67108864',
      'memory/memory.memsw.limit_in_bytes=134217728',
      'memory/memory.soft_limit_in_bytes=33554432',
      'cpu/cpu.shares=512',
      'cpu/cpu.cfs_period_us=100000',
      'cpu/cpu.cfs_quota_us=50000',
      'cpuset/cpuset.cpus=0',
      'pids/pids.max=10',
      'blkio/blkio.weight=500',
      'hugetlb/hugetlb.2MB.limit_in_bytes=0',
    ]);
  });
  it("writes v2 files with runc's conversions", () => {
    expect(resourceWrites(res, 'v2').map((w) => `${w.file}=${w.value}`)).toEqual([
      'memory.max=67108864',
      'memory.swap.max=67108864',
      'memory.low=33554432',
      'cpu.weight=20',
      'cpu.max=50000 100000',
      'cpuset.cpus=0',
      'pids.max=10',
      'io.weight=default 4950',
      'hugetlb.2MB.max=0',
    ]);
  });
  it('device rules: v1 files with runc defaults after; v2 deny-all accepted with a warning, allow rules refused', () => {
    const v1 = resourceWrites(
      {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
        ],
      },
      'v1',
    );
    expect(v1.slice(0, 3).map((w) => `${w.file} ${w.value}`)).toEqual([
      'devices.deny a',
      'devices.allow c 1:3 rw',
      'devices.allow c *:* m',
    ]);
    const warnings: string[] = [];
    expect(resourceWrites({ devices: [{ allow: false, access: 'rwm' }] }, 'v2', warnings)).toEqual([]);
    expect(warnings[0]).toMatch(/not enforced on cgroup v2/);
    expect(() => resourceWrites({ devices: [{ allow: true, type: 'c', major: 1, minor: 3 }] }, 'v2')).toThrow(
      /linux.resources.devices: allow rules/,
    );
  });
});
