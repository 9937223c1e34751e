/**
 * Which Linux security modules the host enforces, read the way runc and go-selinux do:
 * AppArmor is on when /sys/module/apparmor/parameters/enabled says `Y`; SELinux when
 * selinuxfs is mounted (/sys/fs/selinux/enforce exists). AppArmor profiles must be loaded
 * before use: their names come from securityfs.
 */
import fs from 'node:fs';

export interface HostLsm {
  appArmor: boolean;
  /** Names of the loaded AppArmor profiles (empty when securityfs is not mounted). */
  appArmorProfiles: string[];
  seLinux: boolean;
  /** The supervisor's own SELinux context, to fill in what a manifest leaves out. */
  seLinuxContext?: string;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

let cached: HostLsm | undefined;

/** Read once per process: modules do not come and go while minipod runs. */
export function detectHostLsm(): HostLsm {
  cached ??= readHostLsm();
  return cached;
}

function readHostLsm(): HostLsm {
  const seLinux = fs.existsSync('/sys/fs/selinux/enforce');
  const appArmor = read('/sys/module/apparmor/parameters/enabled')?.trim().startsWith('Y') ?? false;
  // One `name (mode)` a line.
  const profiles = appArmor ? (read('/sys/kernel/security/apparmor/profiles') ?? '') : '';
  return {
    appArmor,
    appArmorProfiles: profiles
      .split('\n')
      .map((l) => l.replace(/ \([a-z]+\)$/, ''))
      .filter(Boolean),
    seLinux,
    ...(seLinux ? { seLinuxContext: read('/proc/self/attr/current')?.replace(/\0/g, '').trim() } : {}),
  };
}
