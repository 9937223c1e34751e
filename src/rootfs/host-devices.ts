/**
 * The host's device nodes, for a privileged container (runc's HostDevices, which podman and
 * containerd give every privileged container): every character and block device under /dev,
 * sub-folders included, except the folders whose nodes a container gets its own of (`pts`,
 * `shm`, `mqueue`) or that only hold links (`fd`), and `/dev/console` (a container's console
 * is its own, as runc skips it). Symlinks are not devices and are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeviceNode } from '../plan/types.js';

const SKIPPED_DIRS = new Set(['pts', 'shm', 'mqueue', 'fd', '.lxc', '.lxd-mounts', '.udev']);
const SKIPPED_FILES = new Set(['console']);

export function listHostDevices(root = '/dev'): DeviceNode[] {
  const out: DeviceNode[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth === 0 && SKIPPED_DIRS.has(entry.name)) continue;
        if (depth < 8) walk(full, depth + 1);
        continue;
      }
      if (!entry.isCharacterDevice() && !entry.isBlockDevice()) continue;
      if (depth === 0 && SKIPPED_FILES.has(entry.name)) continue;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(full);
      } catch {
        continue; // gone since the readdir (a hot-unplugged device)
      }
      const rdev = st.rdev;
      // Linux's new_encode_dev layout, as glibc's major()/minor() read it.
      const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
      const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
      out.push({ path: full, major, minor, mode: st.mode });
    }
  };
  walk(root, 0);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
