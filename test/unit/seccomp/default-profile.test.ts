import { describe, expect, it } from 'vitest';
import { CAPABILITIES, DEFAULT_CAPABILITIES } from '../../../native-bindings/constants.js';
import { compileFilter } from '../../../src/seccomp/compile.js';
import { DEFAULT_PROFILE, defaultProfileJson } from '../../../src/seccomp/default-profile.js';
import { parseProfile } from '../../../src/seccomp/profile.js';
import { resolveProfile, type HostFacts } from '../../../src/seccomp/resolve.js';
import { AUDIT_ARCH_I386, decision, runSeccompProgram } from '../../support/bpf.js';

const host: HostFacts = { goArch: 'amd64', seccompArch: 'x86_64', kernel: [6, 1] };
const defaultCaps = DEFAULT_CAPABILITIES.map((c) => `CAP_${c}`);

/** x86_64 syscall numbers. */
const NR = {
  read: 0,
  socket: 41,
  clone: 56,
  personality: 135,
  ptrace: 101,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  init_module: 175,
  delete_module: 176,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  setns: 308,
  perf_event_open: 298,
  open_by_handle_at: 304,
  finit_module: 313,
  bpf: 321,
  userfaultfd: 323,
  clone3: 435,
  io_uring_setup: 425,
  openat: 257,
  execve: 59,
  chroot: 161,
  reboot: 169,
  arch_prctl: 158,
  vmsplice: 278,
} as const;

function decide(caps: string[], nr: number, args: number[] = [], arch?: number): string {
  const program = compileFilter(resolveProfile(DEFAULT_PROFILE, caps, host));
  return decision(runSeccompProgram(program, { nr, args, arch }));
}

describe('the default profile, compiled with libseccomp (decisions read back from the BPF)', () => {
  it.each([
    ['bpf', NR.bpf, [], 'errno 1'],
    ['perf_event_open', NR.perf_event_open, [], 'errno 1'],
    ['open_by_handle_at', NR.open_by_handle_at, [], 'errno 1'],
    ['add_key', NR.add_key, [], 'errno 1'],
    ['keyctl', NR.keyctl, [], 'errno 1'],
    ['request_key', NR.request_key, [], 'errno 1'],
    ['kexec_load', NR.kexec_load, [], 'errno 1'],
    ['init_module', NR.init_module, [], 'errno 1'],
    ['finit_module', NR.finit_module, [], 'errno 1'],
    ['delete_module', NR.delete_module, [], 'errno 1'],
    ['unshare', NR.unshare, [0x20000], 'errno 1'],
    ['setns', NR.setns, [], 'errno 1'],
    ['mount', NR.mount, [], 'errno 1'],
    ['umount2', NR.umount2, [], 'errno 1'],
    ['pivot_root', NR.pivot_root, [], 'errno 1'],
    ['userfaultfd', NR.userfaultfd, [], 'errno 1'],
    ['vmsplice', NR.vmsplice, [], 'errno 1'],
    ['clone(CLONE_NEWUSER)', NR.clone, [0x10000000 | 17], 'errno 1'],
    ['clone(CLONE_NEWNET)', NR.clone, [0x40000000], 'errno 1'],
    ['clone(thread flags)', NR.clone, [0x003d0f00], 'allow'],
    ['clone3 (flags unreadable: glibc falls back)', NR.clone3, [], 'errno 38'],
    ['personality(0)', NR.personality, [0], 'allow'],
    ['personality(query)', NR.personality, [0xffffffff], 'allow'],
    ['personality(READ_IMPLIES_EXEC)', NR.personality, [0x0400000], 'errno 38'],
    ['io_uring_setup (not listed)', NR.io_uring_setup, [], 'errno 38'],
    ['an unknown syscall number', 999, [], 'errno 38'],
    ['read', NR.read, [], 'allow'],
    ['openat', NR.openat, [], 'allow'],
    ['execve', NR.execve, [], 'allow'],
    ['arch_prctl', NR.arch_prctl, [], 'allow'],
    ['ptrace', NR.ptrace, [], 'allow'],
    ['chroot (CAP_SYS_CHROOT is a default cap)', NR.chroot, [], 'allow'],
    ['reboot', NR.reboot, [], 'errno 1'],
    ['socket(AF_INET)', NR.socket, [2], 'allow'],
    ['socket(AF_VSOCK)', NR.socket, [40], 'errno 97'],
  ])('default capabilities: %s -> %s', (_name, nr, args, expected) => {
    expect(decide(defaultCaps, nr, args)).toBe(expected);
  });

  it("with CAP_SYS_ADMIN the namespace, mount and bpf calls are the kernel's to check", () => {
    const caps = [...defaultCaps, 'CAP_SYS_ADMIN'];
    for (const nr of [NR.mount, NR.unshare, NR.setns, NR.bpf, NR.perf_event_open, NR.clone3]) expect(decide(caps, nr)).toBe('allow');
    expect(decide(caps, NR.clone, [0x10000000])).toBe('allow');
    // Not a capability matter: still refused.
    expect(decide(caps, NR.kexec_load)).toBe('errno 1');
    expect(decide(caps, NR.add_key)).toBe('errno 1');
    expect(decide(caps, NR.init_module)).toBe('errno 1');
  });

  it("with every capability, module loading is the kernel's to check", () => {
    expect(
      decide(
        CAPABILITIES.map((c) => `CAP_${c}`),
        NR.init_module,
      ),
    ).toBe('allow');
  });

  it('covers 32-bit x86 calls too (int 0x80 from a 64-bit container)', () => {
    const I386 = { read: 3, mount: 21, bpf: 357 };
    expect(decide(defaultCaps, I386.read, [], AUDIT_ARCH_I386)).toBe('allow');
    expect(decide(defaultCaps, I386.mount, [], AUDIT_ARCH_I386)).toBe('errno 1');
    expect(decide(defaultCaps, I386.bpf, [], AUDIT_ARCH_I386)).toBe('errno 1');
  });

  it('kills on an architecture the profile does not list', () => {
    expect(decide(defaultCaps, NR.read, [], 0xc00000b7 /* aarch64 */)).toMatch(/^kill/);
  });

  it('prints as JSON that parses back to the same filter', () => {
    const again = parseProfile(defaultProfileJson());
    const a = compileFilter(resolveProfile(DEFAULT_PROFILE, defaultCaps, host));
    const b = compileFilter(resolveProfile(again, defaultCaps, host));
    expect(b.equals(a)).toBe(true);
  });
});

describe('compileFilter', () => {
  it('skips syscall names libseccomp does not know (they get the default action)', () => {
    const spec = resolveProfile(
      parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["no_such_call","bpf"],"action":"SCMP_ACT_ERRNO"}]}'),
      [],
      host,
    );
    const program = compileFilter(spec);
    expect(decision(runSeccompProgram(program, { nr: NR.bpf }))).toBe('errno 1');
    expect(decision(runSeccompProgram(program, { nr: NR.read }))).toBe('allow');
  });

  it('compiles argument conditions (MASKED_EQ, GT)', () => {
    const spec = resolveProfile(
      parseProfile(
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            {
              names: ['personality'],
              action: 'SCMP_ACT_KILL_PROCESS',
              args: [{ index: 0, value: 0xff, valueTwo: 0x10, op: 'SCMP_CMP_MASKED_EQ' }],
            },
            { names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, args: [{ index: 2, value: 4096, op: 'SCMP_CMP_GT' }] },
          ],
        }),
      ),
      [],
      host,
    );
    const program = compileFilter(spec);
    expect(decision(runSeccompProgram(program, { nr: NR.personality, args: [0x310] }))).toBe('kill-process');
    expect(decision(runSeccompProgram(program, { nr: NR.personality, args: [0x311] }))).toBe('allow');
    expect(decision(runSeccompProgram(program, { nr: NR.read, args: [0, 0, 8192] }))).toBe('errno 5');
    expect(decision(runSeccompProgram(program, { nr: NR.read, args: [0, 0, 10] }))).toBe('allow');
  });
});
