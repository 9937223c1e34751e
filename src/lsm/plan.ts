/**
 * What label a container's process gets from AppArmor or SELinux, decided before the pod
 * exists (pure: the host's modules are an input). A field the host cannot honour is an error
 * naming the field, never ignored.
 *
 * AppArmor, as the kubelet does: Unconfined needs nothing; RuntimeDefault or Localhost on a
 * host without AppArmor refuse the pod ("AppArmor is not enabled on the host"). With AppArmor,
 * Localhost names a loaded profile; RuntimeDefault is the runtime default profile of a peer
 * loaded on the host (podman's containers-default-*, Docker's docker-default, containerd's
 * cri-containerd.apparmor.d): minipod ships none of its own. No field: no profile.
 * SELinux: seLinuxOptions on a host without SELinux is refused; with SELinux, the parts given
 * replace those of the supervisor's own context, as go-selinux fills them in.
 */
import { UserError } from '../errors.js';
import type { SecurityContext } from '../manifest/types.js';
import type { LsmLabel } from '../plan/types.js';
import type { HostLsm } from './host.js';

export { detectHostLsm } from './host.js';

/** Peers' default profiles, in the order minipod prefers them. */
const RUNTIME_DEFAULT_PREFIXES = ['containers-default-', 'docker-default', 'cri-containerd.apparmor.d'];

function appArmorLabel(sc: SecurityContext, host: HostLsm): LsmLabel | undefined {
  const ref = sc.appArmorProfile;
  if (!ref || ref.type === 'Unconfined' || sc.privileged) return undefined;
  if (!host.appArmor) {
    throw new UserError(
      `${ref.field}: ${ref.type} cannot be enforced: AppArmor is not enabled on this host (use type Unconfined or leave the field out)`,
      { code: 'lsm.apparmor-unavailable' },
    );
  }
  if (ref.type === 'Localhost') {
    const name = ref.localhostProfile!;
    if (!host.appArmorProfiles.includes(name)) {
      throw new UserError(`${ref.field}: AppArmor profile "${name}" is not loaded on this host (load it with apparmor_parser)`, {
        code: 'lsm.apparmor-profile',
      });
    }
    return { module: 'apparmor', label: name };
  }
  for (const prefix of RUNTIME_DEFAULT_PREFIXES) {
    const found = host.appArmorProfiles
      .filter((p) => p.startsWith(prefix))
      .sort()
      .at(-1);
    if (found) return { module: 'apparmor', label: found };
  }
  throw new UserError(
    `${ref.field}: RuntimeDefault: no runtime default AppArmor profile (containers-default, docker-default) is loaded on this host; use Localhost with a loaded profile`,
    { code: 'lsm.apparmor-default' },
  );
}

/** `user:role:type:level`; the level may itself contain colons (`s0:c1,c2`). */
function seLinuxLabel(sc: SecurityContext, host: HostLsm): LsmLabel | undefined {
  const opts = sc.seLinuxOptions;
  if (!opts || (!opts.user && !opts.role && !opts.type && !opts.level)) return undefined;
  if (!host.seLinux) {
    throw new UserError(`${opts.field}: cannot be applied: SELinux is not enabled on this host (leave the field out)`, {
      code: 'lsm.selinux-unavailable',
    });
  }
  const [user, role, type, ...level] = (host.seLinuxContext || 'system_u:system_r:container_t:s0').split(':');
  const label = [opts.user ?? user, opts.role ?? role, opts.type ?? type, opts.level ?? level.join(':')].join(':');
  return { module: 'selinux', label };
}

/** The labels to apply before execve (at most one per module). */
export function planLsmLabels(sc: SecurityContext, host: HostLsm): LsmLabel[] {
  return [appArmorLabel(sc, host), seLinuxLabel(sc, host)].filter((l): l is LsmLabel => l !== undefined);
}
