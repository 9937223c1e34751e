/** `features`: what minipod-oci implements, in runc's `features` JSON (runtime-spec features.md). */
import { requireOperands } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { CAPABILITIES } from '../../../native-bindings/constants.js';
import { OCI_SPEC_VERSION } from '../cli/version.js';

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'async',
      'atime',
      'bind',
      'defaults',
      'dev',
      'diratime',
      'dirsync',
      'exec',
      'loud',
      'mand',
      'noatime',
      'nodev',
      'nodiratime',
      'noexec',
      'nomand',
      'norelatime',
      'nostrictatime',
      'nosuid',
      'nosymfollow',
      'private',
      'rbind',
      'relatime',
      'ro',
      'rprivate',
      'rshared',
      'rslave',
      'runbindable',
      'rw',
      'shared',
      'silent',
      'slave',
      'strictatime',
      'suid',
      'symfollow',
      'sync',
      'unbindable',
    ],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: CAPABILITIES.map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: [
          'SCMP_ACT_ALLOW',
          'SCMP_ACT_ERRNO',
          'SCMP_ACT_KILL',
          'SCMP_ACT_KILL_PROCESS',
          'SCMP_ACT_KILL_THREAD',
          'SCMP_ACT_LOG',
          'SCMP_ACT_TRACE',
          'SCMP_ACT_TRAP',
        ],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
      },
      apparmor: { enabled: true },
      selinux: { enabled: true },
    },
    annotations: { 'io.github.minipod.oci.pod-annotations': 'minipod.io/' },
  };
}

export const featuresCommand: OciCommand = {
  flags: [],
  run(_ctx, args) {
    requireOperands(args, 'features', 0);
    process.stdout.write(JSON.stringify(features(), null, '    ') + '\n');
    return 0;
  },
};
