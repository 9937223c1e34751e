import { describe, expect, it } from 'vitest';
import { buildExecPlan, mergeEnv, parseEnvFlags, parseUserFlag, type ProcessRecord } from '../../../src/plan/exec.js';
import { exitStatus } from '../../../src/exec/exec.js';
import { UserError } from '../../../src/errors.js';

const record: ProcessRecord = {
  process: {
    args: ['nginx', '-g', 'daemon off;'],
    env: ['PATH=/usr/bin:/bin', 'FOO=bar', 'HOME=/root'],
    cwd: '/srv',
    user: { uid: 101, gid: 101 },
    capabilities: { bounding: [0, 1], effective: [0, 1], permitted: [0, 1], inheritable: [], ambient: [] },
    noNewPrivileges: true,
  },
  cgroupProcs: ['/sys/fs/cgroup/minipod/web/app/cgroup.procs'],
};

describe('buildExecPlan', () => {
  it('runs the command like the container: its env, cwd, user, capabilities, no_new_privs and cgroup', () => {
    const plan = buildExecPlan('web/app', 4242, record, { argv: ['sh', '-c', 'id'] });
    expect(plan).toEqual({
      kind: 'exec',
      id: 'web/app',
      mountNamespace: '/proc/4242/ns/mnt',
      // Joined once in the cgroups: the exec'd process sees the container's own cgroup view.
      cgroupNamespace: '/proc/4242/ns/cgroup',
      process: { ...record.process, args: ['sh', '-c', 'id'] },
      cgroupProcs: record.cgroupProcs,
    });
  });

  it('applies -e, -u and -w on top, without changing the record', () => {
    const before = JSON.stringify(record);
    const plan = buildExecPlan('web/app', 1, record, {
      argv: ['env'],
      env: ['FOO=baz', 'NEW=1'],
      user: { uid: 0 },
      cwd: '/tmp',
    });
    expect(plan.process.env).toEqual(['PATH=/usr/bin:/bin', 'FOO=baz', 'HOME=/root', 'NEW=1']);
    expect(plan.process.user).toEqual({ uid: 0 });
    expect(plan.process.cwd).toBe('/tmp');
    expect(plan.process.capabilities).toEqual(record.process.capabilities);
    expect(plan.process.noNewPrivileges).toBe(true);
    expect(JSON.stringify(record)).toBe(before);
  });

  it('asks for a controlling terminal under -t and sets TERM unless the container has one', () => {
    const plan = buildExecPlan('web/app', 1, record, { argv: ['sh'], terminal: true });
    expect(plan.terminal).toBe(true);
    expect(plan.process.env).toContain('TERM=xterm');
    const own = buildExecPlan('web/app', 1, record, { argv: ['sh'], env: ['TERM=vt100'], terminal: true });
    expect(own.process.env.filter((e) => e.startsWith('TERM='))).toEqual(['TERM=vt100']);
    expect(buildExecPlan('web/app', 1, record, { argv: ['sh'] }).terminal).toBeUndefined();
  });

  it('refuses an empty command', () => {
    expect(() => buildExecPlan('web/app', 1, record, { argv: [] })).toThrow(UserError);
  });
});

describe('exec flags', () => {
  it('merges env entries, later ones winning, first position kept', () => {
    expect(mergeEnv(['A=1', 'B=2'], ['B=3', 'C=4', 'A=5'])).toEqual(['A=5', 'B=3', 'C=4']);
    expect(mergeEnv([], ['EMPTY='])).toEqual(['EMPTY=']);
  });

  it('parses -u as UID[:GID] or NAME[:GID]', () => {
    expect(parseUserFlag('1000', 'x')).toEqual({ uid: 1000, gid: undefined });
    expect(parseUserFlag('1000:50', 'x')).toEqual({ uid: 1000, gid: 50 });
    expect(parseUserFlag('nobody', 'x')).toEqual({ name: 'nobody', gid: undefined });
    expect(() => parseUserFlag('1000:staff', 'exec web/app')).toThrow(/exec web\/app: user "1000:staff" must be UID\[:GID\]/);
    expect(() => parseUserFlag('', 'x')).toThrow(UserError);
  });

  it('checks -e values', () => {
    expect(parseEnvFlags(['A=1', 'B='], 'x')).toEqual(['A=1', 'B=']);
    expect(() => parseEnvFlags(['=1'], 'exec web/app')).toThrow(/exec web\/app: environment variable "=1" must be NAME=VALUE/);
    expect(() => parseEnvFlags(['A'], 'x')).toThrow(UserError);
  });

  it('reports signals as 128+N', () => {
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
    expect(exitStatus(null, 'SIGINT')).toBe(130);
  });
});
