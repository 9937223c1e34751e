/**
 * The container's own cgroup view, from inside a real container: /sys/fs/cgroup shows the
 * container's cgroup (memory.max on v2, memory/memory.limit_in_bytes on v1 and hybrid) and its
 * limit, read-only; /proc/self/cgroup shows `/` (a cgroup namespace); no other cgroup (another
 * container, another pod, the host's) is visible, and nothing can be written, release_agent
 * included. `minipod exec` joins the same namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  busyboxPod,
  inspect,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

const MI64 = 64 * 1024 * 1024;

/** Prints what the container sees of its cgroups, one `key=value` a line. */
const VIEW_SCRIPT = [
  'if [ -f /sys/fs/cgroup/memory.max ]; then v=2; lim=/sys/fs/cgroup/memory.max; else v=1; lim=/sys/fs/cgroup/memory/memory.limit_in_bytes; fi',
  'echo "version=$v"',
  'echo "limit=$(cat $lim)"',
  '(echo 1073741824 > $lim) 2>/dev/null && echo write=allowed || echo write=denied',
  'mkdir /sys/fs/cgroup/escape 2>/dev/null && echo mkdir=allowed || echo mkdir=denied',
  'for f in /sys/fs/cgroup/release_agent /sys/fs/cgroup/*/release_agent; do [ -e "$f" ] && echo "release_agent=$f"; done',
  '(echo /x > /sys/fs/cgroup/memory/release_agent) 2>/dev/null && echo release_write=allowed || echo release_write=denied',
  'echo "subdirs=$(find /sys/fs/cgroup -mindepth $((v == 2 ? 1 : 2)) -type d | wc -l)"',
  'echo "cgroups=$(cut -d: -f3 /proc/self/cgroup | sort -u | tr "\\n" " ")"',
  'echo "mounted=$(grep -c " /sys/fs/cgroup" /proc/self/mountinfo)"',
].join('; ');

function parse(out: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv[line.slice(0, eq)] = kv[line.slice(0, eq)] ? `${kv[line.slice(0, eq)]} ${line.slice(eq + 1)}` : line.slice(eq + 1);
  }
  return kv;
}

describe.skipIf(!isRoot)("the container's own cgroup view (root)", () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('cgview')));
  afterAll(() => {
    if (t) minipodSync(t, ['rm', '-f', 'view', 'other']);
    t?.cleanup();
  });

  it("shows the container's own cgroup and limit at /sys/fs/cgroup, read-only, and nothing else", async () => {
    // No bridge networking: nothing here needs it, and it is slow in the VM tests.
    const quiet = { metadata: { annotations: { 'minipod.io/network': 'none' } } };
    const other = busyboxPod('other', [['o', 'exec sleep 600']], quiet);
    // Generous timeouts: a pod start takes over a minute in the emulated VM tests.
    expect((await minipod(t, ['run', '-d', writeManifest(t, 'other.json', other)], { timeoutMs: 150_000 })).code).toBe(0);
    const pod = busyboxPod(
      'view',
      [
        ['a', `${VIEW_SCRIPT}; exec sleep 600`],
        ['b', 'exec sleep 600'],
      ],
      quiet,
    );
    const spec = (pod as { spec: { containers: { resources?: object }[] } }).spec;
    spec.containers[0]!.resources = { limits: { memory: '64Mi' } };
    const up = await minipod(t, ['run', '-d', writeManifest(t, 'view.json', pod)], { timeoutMs: 150_000 });
    expect(up.code, up.stderr).toBe(0);
    const out = await waitFor(
      'the view script',
      () => {
        const l = minipodSync(t, ['logs', 'view', 'a']).stdout;
        return /^mounted=/m.test(l) && l;
      },
      120_000,
    );
    const kv = parse(out);
    expect(kv.limit, out).toBe(String(MI64));
    expect(kv.write, out).toBe('denied');
    expect(kv.mkdir, out).toBe('denied');
    expect(kv.release_agent, out).toBeUndefined();
    expect(kv.release_write, out).toBe('denied');
    // Only the container's own cgroup: no other container's, pod's or the host's below it.
    expect(kv.subdirs, out).toBe('0');
    expect(kv.cgroups?.trim(), out).toBe('/');
    expect(Number(kv.mounted), out).toBeGreaterThan(0);

    // From outside: the same limit in the container's cgroup on the host.
    const state = inspect(t, 'view')!;
    const dirs = state.containers.find((c) => c.name === 'a')!.cgroupPaths;
    const hostLimit =
      kv.version === '2'
        ? fs.readFileSync(
            path.join(
              dirs.find((d) => !/\/(memory|cpu|pids|systemd)\//.test(d))!,
              'memory.max',
            ),
            'utf8',
          )
        : fs.readFileSync(
            path.join(
              dirs.find((d) => d.includes('/memory/'))!,
              'memory.limit_in_bytes',
            ),
            'utf8',
          );
    expect(hostLimit.trim()).toBe(String(MI64));

    // exec joins the container's cgroup namespace and sees the same view.
    const ex = minipodSync(t, [
      'exec',
      'view',
      'a',
      '--',
      'sh',
      '-c',
      'cut -d: -f3 /proc/self/cgroup | sort -u; ls /sys/fs/cgroup | wc -l',
    ]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout.split('\n')[0]).toBe('/');
    expect(Number(ex.stdout.split('\n')[1])).toBeGreaterThan(0);
  }, 400_000);
});
