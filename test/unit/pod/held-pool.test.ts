/** The conmon pool's pure parts (src/pod/held-pool.ts): an entry's files and conmon command, and which containers can take one. */
import { describe, expect, it } from 'vitest';
import { conmonCommand } from '../../../src/conmon/args.js';
import { pooledEntryPlan, pooledFits, pooledNamespaces, poolId } from '../../../src/pod/held-pool.js';
import { minipodPaths } from '../../../src/paths.js';

const paths = minipodPaths({});

describe('a pooled conmon entry', () => {
  it("has its bundle and exit dir in the pool dir, its log in the log dir's pool, and podman's conmon command at nice 19", () => {
    const plan = pooledEntryPlan({ paths, runtime: '/opt/minipod/bin/minipod-oci', conmon: '/usr/bin/conmon' }, 'mp-0123456789ab');
    expect(plan).toMatchObject({
      bundle: '/run/minipod/conmon-pool/mp-0123456789ab',
      exitDir: '/run/minipod/conmon-pool/mp-0123456789ab/exits',
      poolLog: '/var/log/minipod/.conmon-pool/mp-0123456789ab.log',
    });
    expect(conmonCommand({ ...plan.request, syncFd: 3 }).argv).toEqual([
      // Booted while pods may be starting: create's Node must not take their CPUs.
      '/usr/bin/nice',
      '-n',
      '19',
      '/usr/bin/conmon',
      '--api-version',
      '1',
      '-c',
      'mp-0123456789ab',
      '-u',
      'mp-0123456789ab',
      '-n',
      'mp-0123456789ab',
      '-r',
      '/opt/minipod/bin/minipod-oci',
      '--runtime-arg',
      '--root',
      '--runtime-arg',
      '/run/minipod/oci',
      '-b',
      '/run/minipod/conmon-pool/mp-0123456789ab',
      '-p',
      '/run/minipod/conmon-pool/mp-0123456789ab/pidfile',
      '-P',
      '/run/minipod/conmon-pool/mp-0123456789ab/conmon.pid',
      '--exit-dir',
      '/run/minipod/conmon-pool/mp-0123456789ab/exits',
      '-l',
      'k8s-file:/var/log/minipod/.conmon-pool/mp-0123456789ab.log',
      '--socket-dir-path',
      '/run/minipod/attach',
      '--log-level',
      'error',
    ]);
  });

  it('gets a short id that no pod container has (theirs are <pod>_<container>)', () => {
    const id = poolId();
    expect(id).toMatch(/^mp-[0-9a-f]{12}$/);
    expect(poolId()).not.toBe(id);
  });

  it("spawns its helper into the sandbox init's four namespaces", () => {
    expect(pooledNamespaces(42)).toEqual([
      { type: 'pid', path: '/proc/42/ns/pid' },
      { type: 'network', path: '/proc/42/ns/net' },
      { type: 'ipc', path: '/proc/42/ns/ipc' },
      { type: 'uts', path: '/proc/42/ns/uts' },
    ]);
  });

  it("serves a container that joins all of that init's namespaces and has no stdin", () => {
    const entry = { initPid: 42 };
    const all = { create: [], join: { pid: 42, namespaces: ['pid', 'ipc', 'net', 'uts'] } } as const;
    expect(pooledFits(entry, { create: [], join: { pid: 42, namespaces: ['pid', 'ipc', 'net', 'uts'] } }, false)).toBe(true);
    expect(pooledFits(entry, { ...all, join: { ...all.join, namespaces: ['pid', 'ipc', 'net', 'uts'] } }, true)).toBe(false);
    // shareProcessNamespace: false, another pod's init, hostNetwork
    expect(pooledFits(entry, { create: ['pid'], join: { pid: 42, namespaces: ['ipc', 'net', 'uts'] } }, false)).toBe(false);
    expect(pooledFits(entry, { create: [], join: { pid: 43, namespaces: ['pid', 'ipc', 'net', 'uts'] } }, false)).toBe(false);
    expect(pooledFits(entry, { create: [], join: { pid: 42, namespaces: ['pid', 'ipc'] } }, false)).toBe(false);
  });
});
