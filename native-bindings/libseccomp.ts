/**
 * koffi declarations of the libseccomp functions minipod uses to compile seccomp profiles
 * (Debian's libseccomp2), plus memfd_create for exporting the program. Loaded lazily; reached
 * only through src/syscall/libseccomp.ts.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type KoffiFn = (...args: unknown[]) => unknown;

export interface LibSeccomp {
  init(defaultAction: number): unknown;
  release(ctx: unknown): void;
  archAdd(ctx: unknown, arch: number): number;
  archResolve(name: string): number;
  syscallResolve(name: string): number;
  ruleAdd(ctx: unknown, action: number, syscall: number, count: number, args: Buffer | null): number;
  attrSet(ctx: unknown, attr: number, value: number): number;
  exportBpf(ctx: unknown, fd: number): number;
  memfd(name: string, flags: number): number;
}

let lib: LibSeccomp | undefined;

export function loadLibSeccomp(): LibSeccomp {
  if (lib) return lib;
  const koffi = require('koffi');
  let so: { func(decl: string): KoffiFn };
  try {
    so = koffi.load('libseccomp.so.2');
  } catch (err) {
    throw new Error(`libseccomp.so.2 is not installed (Debian: apt-get install libseccomp2): ${(err as Error).message}`);
  }
  const libc = koffi.load('libc.so.6');
  lib = {
    init: so.func('void *seccomp_init(uint32_t def_action)'),
    release: so.func('void seccomp_release(void *ctx)') as LibSeccomp['release'],
    archAdd: so.func('int seccomp_arch_add(void *ctx, uint32_t arch)') as LibSeccomp['archAdd'],
    archResolve: so.func('uint32_t seccomp_arch_resolve_name(const char *name)') as LibSeccomp['archResolve'],
    syscallResolve: so.func('int seccomp_syscall_resolve_name(const char *name)') as LibSeccomp['syscallResolve'],
    ruleAdd: so.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int cnt, const void *args)',
    ) as LibSeccomp['ruleAdd'],
    attrSet: so.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)') as LibSeccomp['attrSet'],
    exportBpf: so.func('int seccomp_export_bpf(void *ctx, int fd)') as LibSeccomp['exportBpf'],
    memfd: libc.func('int memfd_create(const char *name, unsigned int flags)') as LibSeccomp['memfd'],
  };
  return lib;
}
