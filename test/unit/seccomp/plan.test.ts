import { describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { containerCapabilities } from '../../../src/plan/container.js';
import { planPodSeccomp, type SeccompPlanner } from '../../../src/seccomp/plan.js';
import type { FilterSpec } from '../../../src/seccomp/resolve.js';

function pod(containers: object[], podSecurity?: object) {
  return parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: containers.map((c, i) => ({ name: `c${i}`, image: 'img', ...c })),
        ...(podSecurity ? { securityContext: podSecurity } : {}),
      },
    }),
    { manifestDir: '/m' },
  );
}

/** A planner with fake files and a compiler that records what it was asked. */
function fakePlanner(files: Record<string, string> = {}): SeccompPlanner & { compiled: FilterSpec[] } {
  const compiled: FilterSpec[] = [];
  return {
    profileDir: '/lib/seccomp',
    host: { goArch: 'amd64', seccompArch: 'x86_64', kernel: [6, 1] },
    readFile: (file) => {
      if (!(file in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return files[file]!;
    },
    compile: (spec) => {
      compiled.push(spec);
      return Buffer.alloc(8 * (compiled.length + spec.rules.length));
    },
    compiled,
  };
}

describe('securityContext.seccompProfile (manifest)', () => {
  it("defaults to RuntimeDefault; the container's setting wins over the pod's", () => {
    const p = pod([{}, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }], { seccompProfile: { type: 'Unconfined' } });
    expect(p.containers[0]!.securityContext.seccompProfile).toEqual({ type: 'Unconfined', field: 'spec.securityContext.seccompProfile' });
    expect(p.containers[1]!.securityContext.seccompProfile).toEqual({
      type: 'RuntimeDefault',
      field: 'spec.containers[1].securityContext.seccompProfile',
    });
    expect(pod([{}]).containers[0]!.securityContext.seccompProfile.type).toBe('RuntimeDefault');
  });

  it.each([
    [{ type: 'Localhost' }, 'spec.containers[0].securityContext.seccompProfile.localhostProfile: field is required when type is Localhost'],
    [{ type: 'Localhost', localhostProfile: '/etc/x.json' }, 'must be a relative path'],
    [{ type: 'Localhost', localhostProfile: 'a/../../x.json' }, 'must not contain ".."'],
    [{ type: 'RuntimeDefault', localhostProfile: 'x.json' }, 'can only be set when type is Localhost'],
    [{ type: 'Strict' }, 'seccompProfile.type: "Strict" is not one of RuntimeDefault, Unconfined, Localhost'],
    [{ localhostProfile: 'x.json' }, 'seccompProfile.type: field is required'],
  ])('refuses %j', (seccompProfile, message) => {
    expect(() => pod([{ securityContext: { seccompProfile } }])).toThrow(message);
  });
});

describe('planPodSeccomp', () => {
  it("compiles the default profile for each container's own capabilities, none for Unconfined or privileged", () => {
    const planner = fakePlanner();
    const p = pod([
      {},
      { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } },
      { securityContext: { seccompProfile: { type: 'Unconfined' } } },
      { securityContext: { privileged: true } },
    ]);
    const filters = planPodSeccomp(p, containerCapabilities, planner);
    expect([...filters.keys()]).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(filters.get('c0')?.profile).toBe('RuntimeDefault');
    expect(filters.get('c1')?.profile).toBe('RuntimeDefault');
    expect(filters.get('c2')).toBeUndefined();
    expect(filters.get('c3')).toBeUndefined();
    // CAP_SYS_ADMIN changes the rules (mount allowed), so c1's filter is compiled apart.
    expect(planner.compiled).toHaveLength(2);
    const mount = (spec: FilterSpec) => spec.rules.filter((r) => r.syscall === 'mount').map((r) => r.action.toString(16));
    expect(mount(planner.compiled[0]!)).toEqual(['50001']);
    expect(mount(planner.compiled[1]!)).toEqual(['7fff0000']);
  });

  it('reads Localhost profiles under the profile directory', () => {
    const planner = fakePlanner({
      '/lib/seccomp/profiles/audit.json': '{"defaultAction":"SCMP_ACT_LOG","flags":["SECCOMP_FILTER_FLAG_LOG"]}',
    });
    const p = pod([{ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } }]);
    const f = planPodSeccomp(p, containerCapabilities, planner).get('c0')!;
    expect(f.profile).toBe('Localhost/profiles/audit.json');
    expect(f.flags).toBe(2);
    expect(planner.compiled[0]!.defaultAction).toBe(0x7ffc0000);
  });

  it.each([
    ['missing', {}, 'spec.securityContext.seccompProfile.localhostProfile: /lib/seccomp/x.json: no such file'],
    [
      'not JSON',
      { '/lib/seccomp/x.json': '{' },
      'spec.securityContext.seccompProfile.localhostProfile: /lib/seccomp/x.json: not valid JSON',
    ],
    [
      'not a profile',
      { '/lib/seccomp/x.json': '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"]}]}' },
      '/lib/seccomp/x.json: syscalls[0].action: field is required',
    ],
  ])('a %s Localhost profile is a UserError naming the field (even for a privileged container)', (_what, files, message) => {
    const p = pod([{ securityContext: { privileged: true } }], { seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } });
    expect(() => planPodSeccomp(p, containerCapabilities, fakePlanner(files))).toThrow(message);
    try {
      planPodSeccomp(p, containerCapabilities, fakePlanner(files));
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(125);
      expect((err as Error).message).not.toMatch(/\n/);
    }
  });
});
