/**
 * FilterSpec -> classic BPF program, with libseccomp (Debian's libseccomp2, through koffi).
 *
 * Why libseccomp rather than our own BPF: it knows every architecture's syscall numbers (the
 * profile names syscalls; x86_64, x86 and x32 number them differently, x86 multiplexes socket
 * calls), it splits 64-bit argument comparisons for 32-bit ABIs, it checks the architecture
 * and the x32 bit, and it lays large allow lists out as a binary tree. runc, crun and podman
 * all build on it. We only compile with it, in the supervisor, and ship the exported program
 * in the plan: the helper loads those bytes with seccomp(2) (src/syscall), so it needs no
 * libseccomp, and a profile that does not compile fails before anything of the pod exists.
 */
import fs from 'node:fs';
import { libseccomp } from '../syscall/libseccomp.js';
import type { FilterSpec } from './resolve.js';
import { HostError } from '../errors.js';

/** A profile that libseccomp refused: the message names the profile rule. */
export class CompileError extends Error {
  override name = 'CompileError';
}

const SCMP_FLTATR_CTL_NNP = 3;
const SCMP_FLTATR_CTL_OPTIMIZE = 8;
const MFD_CLOEXEC = 1;
const NR_SCMP_ERROR = -1;
const EEXIST = 17;
/** struct scmp_arg_cmp: unsigned arg, enum op, u64 datum_a, u64 datum_b. */
const ARG_CMP_SIZE = 24;

function argArray(args: FilterSpec['rules'][number]['args']): Buffer | null {
  if (args.length === 0) return null;
  const buf = Buffer.alloc(ARG_CMP_SIZE * args.length);
  args.forEach((a, i) => {
    const o = i * ARG_CMP_SIZE;
    buf.writeUInt32LE(a.index, o);
    buf.writeUInt32LE(a.op, o + 4);
    buf.writeBigUInt64LE(BigInt(a.value), o + 8);
    buf.writeBigUInt64LE(BigInt(a.valueTwo), o + 16);
  });
  return buf;
}

function errnoText(rc: number): string {
  return `error ${-rc}${-rc === 22 ? ' (EINVAL)' : -rc === 17 ? ' (EEXIST)' : ''}`;
}

/**
 * Compiles with libseccomp and returns the BPF program (struct sock_filter[], 8 bytes each).
 * Syscall names this libseccomp does not know are skipped, as runc does: a newer kernel's
 * syscall then gets the default action.
 */
export function compileFilter(spec: FilterSpec): Buffer {
  const l = libseccomp();
  const ctx = l.init(spec.defaultAction);
  if (!ctx) throw new CompileError(`defaultAction 0x${spec.defaultAction.toString(16)} is not valid for libseccomp`);
  try {
    // The helper sets no_new_privs itself when the manifest asks for it; the exported program
    // does not carry this attribute anyway.
    l.attrSet(ctx, SCMP_FLTATR_CTL_NNP, 0);
    // A binary tree of syscall numbers: a few comparisons per call instead of hundreds.
    l.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (const name of spec.arches) {
      const token = l.archResolve(name);
      if (!token) throw new CompileError(`architecture "${name}" is not known to libseccomp`);
      const rc = l.archAdd(ctx, token);
      if (rc < 0 && rc !== -EEXIST) throw new CompileError(`architecture "${name}": ${errnoText(rc)}`);
    }
    for (const rule of spec.rules) {
      const nr = l.syscallResolve(rule.syscall);
      if (nr === NR_SCMP_ERROR) continue;
      const rc = l.ruleAdd(ctx, rule.action, nr, rule.args.length, argArray(rule.args));
      if (rc < 0) throw new CompileError(`${rule.at}: libseccomp refused the rule for ${rule.syscall}: ${errnoText(rc)}`);
    }
    const fd = l.memfd('minipod-seccomp', MFD_CLOEXEC);
    if (fd < 0)
      throw new HostError('memfd_create for the seccomp filter failed', { hint: 'the open files limit (ulimit -n) and free memory' });
    try {
      const rc = l.exportBpf(ctx, fd);
      if (rc < 0) throw new CompileError(`libseccomp could not export the filter: ${errnoText(rc)}`);
      const size = fs.fstatSync(fd).size;
      const program = Buffer.alloc(size);
      fs.readSync(fd, program, 0, size, 0);
      return program;
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    l.release(ctx);
  }
}
