import { describe, expect, it } from 'vitest';
import { parseProfile, ProfileError } from '../../../src/seccomp/profile.js';
import { resolveProfile, type HostFacts } from '../../../src/seccomp/resolve.js';

const host: HostFacts = { goArch: 'amd64', seccompArch: 'x86_64', kernel: [6, 1] };

describe('parseProfile', () => {
  it("reads the OCI/Docker format, podman's errno names and comments included", () => {
    const p = parseProfile(
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrno: 'ENOSYS',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: '' },
          { name: 'bpf', action: 'SCMP_ACT_ERRNO', errno: 'EPERM', args: null, includes: {}, excludes: { caps: ['CAP_SYS_ADMIN'] } },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        ],
      }),
    );
    expect(p.defaultErrnoRet).toBe(38);
    expect(p.architectures).toEqual(['x86_64', 'x86']);
    expect(p.syscalls.map((r) => [r.names, r.errnoRet, r.at])).toEqual([
      [['read', 'write'], undefined, 'syscalls[0]'],
      [['bpf'], 1, 'syscalls[1]'],
      [['personality'], undefined, 'syscalls[2]'],
    ]);
    expect(p.syscalls[2]!.args).toEqual([{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }]);
  });

  it.each([
    ['{', /^not valid JSON/],
    ['[]', /^expected an object/],
    ['{}', /^defaultAction: field is required/],
    ['{"defaultAction":"SCMP_ACT_MAYBE"}', /^defaultAction: "SCMP_ACT_MAYBE" is not one of SCMP_ACT_ALLOW/],
    ['{"defaultAction":"SCMP_ACT_NOTIFY"}', /^defaultAction: "SCMP_ACT_NOTIFY" is not supported by minipod/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/x"}', /^listenerPath: is not supported by minipod/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRett":1}', /^defaultErrnoRett: unknown field/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}', /^syscalls\[0\]\.names: field is required/],
    [
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","errnoRet":70000}]}',
      /^syscalls\[0\]\.errnoRet: must be between 0 and 4095/,
    ],
    [
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}',
      /^syscalls\[0\]\.args\[0\]\.index: must be between 0 and 5/,
    ],
    [
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_ISH"}]}]}',
      /^syscalls\[0\]\.args\[0\]\.op: "SCMP_CMP_ISH"/,
    ],
    [
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["SYS_ADMIN"]}}]}',
      /^syscalls\[0\]\.includes\.caps\[0\]: "SYS_ADMIN" is not a capability name/,
    ],
    [
      '{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_TSYNC"]}',
      /^flags\[0\]: "SECCOMP_FILTER_FLAG_TSYNC" is not supported/,
    ],
  ])('%s -> %s', (text, message) => {
    expect(() => parseProfile(text)).toThrow(ProfileError);
    expect(() => parseProfile(text)).toThrow(message);
  });
});

describe("resolveProfile (Docker's includes/excludes semantics)", () => {
  const profile = parseProfile(
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
        { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.5' } },
        {
          names: ['socket'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
          ],
        },
        {
          names: ['socket'],
          action: 'SCMP_ACT_TRACE',
          errnoRet: 5,
          args: [
            { index: 0, value: 3, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 4, op: 'SCMP_CMP_NE' },
          ],
        },
        { names: ['write'], action: 'SCMP_ACT_ERRNO' },
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      ],
    }),
  );

  it("without the capability: the excluding rule, the host arch, the host arch's archMap entry", () => {
    const spec = resolveProfile(profile, ['CAP_CHOWN'], host);
    expect(spec.arches).toEqual(['x86_64', 'x86', 'x32']);
    expect(spec.defaultAction).toBe(0x00050001);
    expect(spec.rules.map((r) => [r.syscall, r.action.toString(16), r.args.length])).toEqual([
      // mount's and write's EPERM is the default action: no rule; the second `read` is a duplicate.
      ['read', '7fff0000', 0],
      ['arch_prctl', '7fff0000', 0],
      // Two conditions on argument 0: one rule each (either value), as runc does.
      ['socket', '7fff0000', 1],
      ['socket', '7fff0000', 1],
      // Different arguments: one rule with both (AND).
      ['socket', '7ff00005', 2],
    ]);
  });

  it('with the capability, on a newer kernel, on arm64', () => {
    const spec = resolveProfile(profile, ['CAP_SYS_ADMIN'], { goArch: 'arm64', seccompArch: 'aarch64', kernel: [6, 10] });
    expect(spec.arches).toEqual(['aarch64', 'arm']);
    expect(spec.rules.map((r) => r.syscall)).toEqual(['read', 'mount', 'set_tls', 'ptrace', 'socket', 'socket', 'socket']);
  });

  it("takes `architectures` over archMap, and the host's arch when there is neither", () => {
    const p = parseProfile(
      '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}]}',
    );
    expect(resolveProfile(p, [], host).arches).toEqual(['x86_64']);
    expect(resolveProfile(parseProfile('{"defaultAction":"SCMP_ACT_ALLOW"}'), [], host).arches).toEqual(['x86_64']);
  });
});
