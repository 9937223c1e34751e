/**
 * The pod-wide security settings as plans: which sysctls a pod may set and where they are
 * written, fsGroup's ownership decisions and their walk over a real directory tree, the groups
 * every container gets, /etc/hosts with hostAliases, sidecar-aware effective requests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { effectiveRequests } from '../../../src/manifest/validate.js';
import { normaliseSysctlName, SAFE_SYSCTLS, sysctlNamespace, sysctlProcPath } from '../../../src/manifest/sysctls.js';
import { renderEtcHosts } from '../../../src/network/hosts.js';
import { processSpec } from '../../../src/plan/container.js';
import { planSysctls } from '../../../src/pod/sysctls.js';
import { ownershipChange, rootNeedsChange, setVolumeOwnership } from '../../../src/pod/volume-ownership.js';

function pod(spec: string): ReturnType<typeof parsePodManifest> {
  return parsePodManifest(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}`, { manifestDir: '/m' });
}

describe('sysctl classification', () => {
  it('puts every kubelet safe sysctl in a namespace', () => {
    for (const name of SAFE_SYSCTLS) expect(sysctlNamespace(name), name).toBeDefined();
  });
  it('knows the namespaced families and refuses host-wide ones', () => {
    expect(sysctlNamespace('kernel.shm_rmid_forced')).toBe('ipc');
    expect(sysctlNamespace('kernel.shmmax')).toBe('ipc');
    expect(sysctlNamespace('kernel.msgmax')).toBe('ipc');
    expect(sysctlNamespace('kernel.sem')).toBe('ipc');
    expect(sysctlNamespace('fs.mqueue.msg_max')).toBe('ipc');
    expect(sysctlNamespace('net.core.somaxconn')).toBe('net');
    expect(sysctlNamespace('net.ipv4.conf.eth0/100.rp_filter')).toBe('net');
    for (const host of ['vm.swappiness', 'kernel.pid_max', 'kernel.semx', 'kernel.hostname', 'fs.file-max', 'fs.mqueue', 'netfilter.x']) {
      expect(sysctlNamespace(host), host).toBeUndefined();
    }
  });
  it('normalises slash names as Kubernetes does and maps them to /proc/sys', () => {
    expect(normaliseSysctlName('kernel/shm_rmid_forced')).toBe('kernel.shm_rmid_forced');
    expect(normaliseSysctlName('net/ipv4/conf/eth0.100/rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
    expect(normaliseSysctlName('net.ipv4.conf.eth0/100.rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
    expect(sysctlProcPath('net.ipv4.conf.eth0/100.rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
    expect(sysctlProcPath('kernel.sem')).toBe('/proc/sys/kernel/sem');
  });
  it('plans the writes in manifest order with their namespace and field', () => {
    const p = pod(
      '  securityContext:\n    sysctls:\n      - {name: kernel.msgmax, value: "9000"}\n      - {name: net/core/somaxconn, value: "512"}\n  containers: [{name: c, image: i}]\n',
    );
    expect(planSysctls(p)).toEqual([
      { path: '/proc/sys/kernel/msgmax', value: '9000', namespace: 'ipc', field: 'spec.securityContext.sysctls[0]', name: 'kernel.msgmax' },
      {
        path: '/proc/sys/net/core/somaxconn',
        value: '512',
        namespace: 'net',
        field: 'spec.securityContext.sysctls[1]',
        name: 'net.core.somaxconn',
      },
    ]);
  });
});

describe('fsGroup ownership decisions (kubelet SetVolumeOwnership)', () => {
  const o = { fsGroup: 2000, readOnly: false };
  it('re-groups and adds group rw (and x + setgid on directories)', () => {
    expect(ownershipChange({ kind: 'dir', mode: 0o777, gid: 0 }, o)).toEqual({ chown: true, mode: 0o2777 });
    expect(ownershipChange({ kind: 'dir', mode: 0o700, gid: 0 }, o)).toEqual({ chown: true, mode: 0o2770 });
    expect(ownershipChange({ kind: 'file', mode: 0o600, gid: 2000 }, o)).toEqual({ chown: false, mode: 0o660 });
    expect(ownershipChange({ kind: 'file', mode: 0o664, gid: 2000 }, o)).toEqual({ chown: false });
  });
  it('gives read-only volumes group read only', () => {
    expect(ownershipChange({ kind: 'file', mode: 0o600, gid: 0 }, { fsGroup: 7, readOnly: true })).toEqual({ chown: true, mode: 0o640 });
    expect(ownershipChange({ kind: 'dir', mode: 0o700, gid: 0 }, { fsGroup: 7, readOnly: true })).toEqual({ chown: true, mode: 0o2750 });
  });
  it('never changes the mode of symlinks or special files', () => {
    expect(ownershipChange({ kind: 'symlink', mode: 0o777, gid: 0 }, o)).toEqual({ chown: true });
    expect(ownershipChange({ kind: 'other', mode: 0o600, gid: 2000 }, o)).toEqual({ chown: false });
  });
  it('OnRootMismatch skips a root that already has the group, the bits and setgid', () => {
    expect(rootNeedsChange({ kind: 'dir', mode: 0o2770, gid: 2000 }, o)).toBe(false);
    expect(rootNeedsChange({ kind: 'dir', mode: 0o770, gid: 2000 }, o)).toBe(true);
    expect(rootNeedsChange({ kind: 'dir', mode: 0o2750, gid: 2000 }, o)).toBe(true);
    expect(rootNeedsChange({ kind: 'dir', mode: 0o2770, gid: 1 }, o)).toBe(true);
  });
});

describe('setVolumeOwnership on a real tree', () => {
  let dir = '';
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  // The process's own group: a file's owner may give it any group it is in, so no root needed.
  const gid = process.getgid!();

  it('walks files and directories, re-groups symlinks without following them', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-fsgroup-'));
    const vol = path.join(dir, 'vol');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(vol, 'sub'), { recursive: true, mode: 0o700 });
    fs.chmodSync(vol, 0o700);
    fs.chmodSync(path.join(vol, 'sub'), 0o700);
    fs.writeFileSync(path.join(vol, 'sub', 'f'), 'x', { mode: 0o600 });
    fs.writeFileSync(outside, 'host', { mode: 0o600 });
    fs.symlinkSync(outside, path.join(vol, 'link'));
    expect(setVolumeOwnership(vol, { fsGroup: gid, readOnly: false, policy: 'Always' })).toBe(true);
    expect(fs.statSync(vol).mode & 0o7777).toBe(0o2770);
    expect(fs.statSync(path.join(vol, 'sub')).mode & 0o7777).toBe(0o2770);
    expect(fs.statSync(path.join(vol, 'sub', 'f')).mode & 0o7777).toBe(0o660);
    // The symlink's target is outside the volume: untouched.
    expect(fs.statSync(outside).mode & 0o7777).toBe(0o600);
    // Done once, OnRootMismatch finds nothing to do.
    expect(setVolumeOwnership(vol, { fsGroup: gid, readOnly: false, policy: 'OnRootMismatch' })).toBe(false);
  });

  it('refuses a volume root that is a symlink', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-fsgroup-'));
    fs.mkdirSync(path.join(dir, 'real'));
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'vol'));
    expect(() => setVolumeOwnership(path.join(dir, 'vol'), { fsGroup: gid, readOnly: false, policy: 'Always' })).toThrow(/ELOOP|ENOTDIR/);
  });
});

describe('container groups', () => {
  it('every container gets supplementalGroups then fsGroup; Strict drops the image groups', () => {
    const p = pod(
      '  securityContext: {fsGroup: 2000, supplementalGroups: [10, 2000]}\n  initContainers: [{name: i, image: i}]\n  containers: [{name: c, image: i}]\n',
    );
    expect(processSpec(p, p.containers[0]!, {}).user).toEqual({ groups: [10, 2000] });
    expect(processSpec(p, p.initContainers[0]!, {}).user).toEqual({ groups: [10, 2000] });
    const strict = pod('  securityContext: {supplementalGroupsPolicy: Strict}\n  containers: [{name: c, image: i}]\n');
    expect(processSpec(strict, strict.containers[0]!, { user: 'web' }).user).toEqual({ name: 'web', strictGroups: true });
  });
});

describe('/etc/hosts with hostAliases', () => {
  it("appends them under kubelet's comment, one line per entry", () => {
    const text = renderEtcHosts('web', '10.88.0.5', [
      { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
      { ip: '10.1.2.3', hostnames: [] },
      { ip: 'fd00::1', hostnames: ['six.local'] },
    ]);
    expect(text.endsWith('10.88.0.5\tweb\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\nfd00::1\tsix.local\n')).toBe(
      true,
    );
    expect(renderEtcHosts('web', '10.88.0.5', [])).not.toContain('HostAliases');
  });
});

describe('effective requests with sidecars (KEP-753)', () => {
  it('adds running sidecars to every later init container and to the app containers', () => {
    const p = pod(`  initContainers:
    - {name: side, image: i, restartPolicy: Always, resources: {requests: {cpu: 100m, memory: 10Mi}}}
    - {name: big, image: i, resources: {requests: {cpu: "1", memory: 10Mi}}}
  containers:
    - {name: c, image: i, resources: {requests: {cpu: 200m, memory: 50Mi}}}
`);
    expect(effectiveRequests(p)).toEqual({ cpuMilli: 1100, memoryBytes: 60 * 2 ** 20 });
  });
});
