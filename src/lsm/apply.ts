/**
 * The helper's half: labels take effect at the next execve, so they are written just before
 * it, as runc does (AppArmor: `exec <profile>` to attr/apparmor/exec, or the older shared
 * attr/exec; SELinux: the context to attr/exec). /proc/self is the thread group leader, the
 * thread that calls execve.
 */
import fs from 'node:fs';
import { inContext } from '../errors.js';
import type { LsmLabel } from '../plan/types.js';

export function applyLsmLabels(labels: readonly LsmLabel[] | undefined): void {
  for (const { module, label } of labels ?? []) {
    inContext(`set the ${module === 'apparmor' ? 'AppArmor profile' : 'SELinux context'} ${label}`, () => {
      if (module === 'selinux') {
        fs.writeFileSync('/proc/self/attr/exec', label);
        return;
      }
      const file = fs.existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
      fs.writeFileSync(file, `exec ${label}`);
    });
  }
}
