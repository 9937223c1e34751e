/** The helper's steps for what config.json adds (src/process/oci-steps.ts), against the recording syscall fake. */
import { describe, expect, it } from 'vitest';
import { containerSettings, setRlimits } from '../../../src/process/oci-steps.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';
import type { ContainerPlan } from '../../../src/plan/types.js';

const base = {
  process: {
    args: ['true'],
    env: [],
    cwd: '/',
    user: {},
    capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
    noNewPrivileges: false,
  },
} as unknown as ContainerPlan;

describe('the helper steps of an OCI container', () => {
  it('sets hostname and domainname in its UTS namespace', () => {
    const sys = new RecordingSyscall();
    containerSettings(sys, { ...base, hostname: 'h', domainname: 'd' });
    expect(sys.callsOf('sethostname')).toEqual([['h']]);
    expect(sys.callsOf('setdomainname')).toEqual([['d']]);
  });

  it('does nothing a pod container did not ask for', () => {
    const sys = new RecordingSyscall();
    containerSettings(sys, base);
    setRlimits(sys, base.process);
    expect(sys.calls).toEqual([]);
  });

  it('sets each rlimit by its number', () => {
    const sys = new RecordingSyscall();
    setRlimits(sys, {
      ...base.process,
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 2 ** 64 },
      ],
    });
    expect(sys.callsOf('setrlimit')).toEqual([
      [7, 10, 20],
      [4, 0, 2 ** 64],
    ]);
  });
});
