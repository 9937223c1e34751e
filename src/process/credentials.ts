/**
 * Becoming the container's user with the container's capabilities, in the order the kernel
 * requires: keep caps across setuid, drop the bounding set while we still hold CAP_SETPCAP,
 * set groups and ids, then the final capability sets, ambient caps, and no_new_privs.
 * All of it acts on the calling (main) thread, which is the one that calls execve.
 */
import fs from 'node:fs';
import { CAPABILITIES } from '../../native-bindings/constants.js';
import { UserError } from '../errors.js';
import type { ProcessSpec } from '../plan/types.js';
import type { Syscall } from '../syscall/syscall.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }];
  });
}

function parseGroups(text: string): { name: string; gid: number; members: string[] }[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]!)) return [];
    return [{ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }];
  });
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Resolves the plan's user against the container's own /etc/passwd and /etc/group (call after
 * pivot_root). A numeric uid that is not listed is fine (gid 0, as containerd does); a user
 * *name* that is not listed is an error. The image's group memberships are dropped under
 * supplementalGroupsPolicy Strict; the pod's own groups are always added.
 */
export function resolveUser(user: ProcessSpec['user'], passwdText = readOr('/etc/passwd'), groupText = readOr('/etc/group')): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  let entry: PasswdEntry | undefined;
  if (user.uid === undefined && user.name !== undefined) {
    entry = passwd.find((p) => p.name === user.name);
    if (!entry) throw new UserError(`user "${user.name}" is not in the image's /etc/passwd`);
  } else {
    entry = passwd.find((p) => p.uid === (user.uid ?? 0));
  }
  const uid = user.uid ?? entry?.uid ?? 0;
  const gid = user.gid ?? entry?.gid ?? 0;
  const fromImage =
    entry && !user.strictGroups
      ? parseGroups(groupText)
          .filter((g) => g.members.includes(entry!.name) && g.gid !== gid)
          .map((g) => g.gid)
      : [];
  // The pod's supplementalGroups and fsGroup come after the image's, as containerd orders them.
  const additionalGids = [...new Set([...fromImage, ...(user.groups ?? [])])];
  return { uid, gid, additionalGids, home: entry?.home || '/' };
}

export function applyCredentials(sys: Syscall, spec: ProcessSpec, user: ResolvedUser): void {
  const keep = new Set(spec.capabilities.bounding);
  // Bounding-set drops need CAP_SETPCAP, which we still have as root.
  for (let bit = 0; bit < CAPABILITIES.length; bit++) {
    if (!keep.has(bit)) {
      try {
        sys.dropBoundingCapability(bit);
      } catch (err) {
        // Caps newer than the kernel (EINVAL) simply do not exist there.
        if ((err as { errno?: number }).errno !== 22) throw err;
      }
    }
  }
  sys.setKeepCaps(true);
  sys.setgroups(user.additionalGids);
  sys.setresgid(user.gid);
  sys.setresuid(user.uid);
  sys.capset({
    effective: spec.capabilities.effective,
    permitted: spec.capabilities.permitted,
    inheritable: spec.capabilities.inheritable,
  });
  sys.setKeepCaps(false);
  // Exactly the process's ambient set: a helper started by util-linux unshare --keep-caps
  // (a new user namespace) has every capability ambient.
  sys.clearAmbientCapabilities();
  for (const bit of spec.capabilities.ambient) sys.raiseAmbientCapability(bit);
  if (spec.noNewPrivileges) sys.setNoNewPrivileges();
}

/**
 * In a new user namespace whose maps the runtime has just written: become its root (uid and
 * gid 0, no groups), as runc's init does before it mounts anything, so the files it creates
 * (mount points, /dev) belong to the namespace's root and not to an unmapped host root.
 * Capabilities are kept: util-linux made them ambient, and a change to root drops none.
 */
export function becomeNamespaceRoot(sys: Syscall): void {
  sys.setgroups([]);
  sys.setresgid(0);
  sys.setresuid(0);
}
