/** Idmapped volume binds of a userns pod, on the recording fake. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MNT } from '../../../native-bindings/constants.js';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { planContainer } from '../../../src/plan/container.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';
import { detachIdmappedVolumes, mountIdmappedVolumes } from '../../../src/userns/volumes.js';

describe('idmapped volume binds', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-idvol-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const planFor = () => {
    const pod = parsePodManifest(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: {
          hostUsers: false,
          volumes: [
            { name: 'host', hostPath: { path: '/srv' } },
            { name: 'scratch', emptyDir: {} },
            { name: 'conf', hostPath: { path: '/etc/app.conf' } },
          ],
          containers: [
            {
              name: 'c',
              image: 'img',
              volumeMounts: [
                { name: 'host', mountPath: '/host' },
                { name: 'scratch', mountPath: '/scratch' },
                { name: 'conf', mountPath: '/app.conf' },
              ],
            },
          ],
        },
      }),
      { manifestDir: '/m' },
    );
    fs.mkdirSync(path.join(dir, 'srv'));
    fs.writeFileSync(path.join(dir, 'app.conf'), 'x');
    const volumes = { host: path.join(dir, 'srv'), scratch: path.join(dir, 'scratch'), conf: path.join(dir, 'app.conf') };
    const dirs = {
      lowerDirs: ['/img'],
      upperDir: '/u',
      workDir: '/w',
      mountPoint: path.join(dir, 'c', 'rootfs'),
      etcHosts: '/h',
      etcHostname: '/hn',
      resolvConf: '/rc',
      shm: '/shm',
      volumes,
      subPaths: {},
    };
    return planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: (p) => p.endsWith('.conf') });
  };

  it('clones hostPath binds idmapped through the pod namespace, not the emptyDir (the pod root owns it)', () => {
    const sys = new RecordingSyscall();
    const plan = planFor();
    const sent = mountIdmappedVolumes(sys, plan, 42);
    const staging = path.join(dir, 'c', 'idmapped-volumes');
    const index = (dest: string) => plan.mounts.findIndex((m) => m.destination === dest);
    expect(sys.callsOf('mountIdmapped')).toEqual([
      [path.join(dir, 'srv'), path.join(staging, String(index('/host'))), 42],
      [path.join(dir, 'app.conf'), path.join(staging, String(index('/app.conf'))), 42],
    ]);
    const source = (dest: string) => sent.mounts.find((m) => m.destination === dest)!.source;
    expect(source('/host')).toBe(path.join(staging, String(index('/host'))));
    expect(source('/scratch')).toBe(path.join(dir, 'scratch'));
    // A file source gets a file to be mounted on; the staging dir is searchable by the pod's root.
    expect(fs.statSync(source('/app.conf')).isFile()).toBe(true);
    expect(fs.statSync(staging).mode & 0o777).toBe(0o711);
    detachIdmappedVolumes(sys, plan);
    expect(sys.callsOf('umount2')).toEqual([
      [path.join(staging, String(index('/host'))), MNT.DETACH],
      [path.join(staging, String(index('/app.conf'))), MNT.DETACH],
    ]);
  });

  it("names the mount when the kernel cannot idmap the volume's filesystem", () => {
    const sys = new RecordingSyscall();
    sys.failNext('mountIdmapped', 22);
    expect(() => mountIdmappedVolumes(sys, planFor(), 42)).toThrow(
      /^volume mounted at \/host: .* cannot be given the idmapped mount a hostUsers: false pod needs/,
    );
  });

  it('falls back to the plain bind for a read-only mount the kernel cannot idmap', () => {
    const sys = new RecordingSyscall();
    const plan = planFor();
    const ro = { ...plan, mounts: plan.mounts.map((m) => (m.destination === '/host' ? { ...m, readOnly: true } : m)) };
    sys.failNext('mountIdmapped', 22);
    const sent = mountIdmappedVolumes(sys, ro, 42);
    expect(sent.mounts.find((m) => m.destination === '/host')!.source).toBe(path.join(dir, 'srv'));
  });
});
