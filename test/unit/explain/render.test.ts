/**
 * The renderers and the comparison, from a snapshot recorded by `minipod explain blog --format
 * json` on the example pod (examples/blog) on a hybrid cgroup host: no root, no pod needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findDifferences, type Expected } from '../../../src/explain/differences.js';
import { groupNamespaces } from '../../../src/explain/namespaces.js';
import { renderDot } from '../../../src/explain/render-dot.js';
import { renderSvg } from '../../../src/explain/render-svg.js';
import { renderText } from '../../../src/explain/render-text.js';
import type { ExplainSnapshot, Member } from '../../../src/explain/snapshot.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const load = (): ExplainSnapshot => JSON.parse(fs.readFileSync(path.join(here, 'fixtures/blog.json'), 'utf8')) as ExplainSnapshot;
const member = (s: ExplainSnapshot, name: string): Member => s.members.find((m) => m.name === name)!;

/** Tags open and close in order, attributes quoted, no raw `<` or `&` in text: an XML parser would accept it. */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(amp|lt|gt|quot|#\d+);)/g;
  for (const m of xml.matchAll(re)) {
    if (!m[2]) throw new Error(`stray "${m[0]}" at ${m.index}: ${xml.slice(m.index, m.index + 60)}`);
    if (m[4]) continue;
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) throw new Error(`</${m[2]}> closes <${open}>`);
    } else stack.push(m[2]);
  }
  expect(stack).toEqual([]);
}

describe('explain: grouping namespaces', () => {
  it("reads the example pod as one pid/net/ipc/uts, a mount namespace each, and the host's cgroup/user/time", () => {
    const s = load();
    const groups = groupNamespaces(s.members, s.hostNamespaces);
    const scope = (type: string) => groups.filter((g) => g.type === type).map((g) => [g.scope, g.members.join(',')]);
    for (const t of ['pid', 'net', 'ipc', 'uts']) expect(scope(t)).toEqual([['pod', 'init,web,app,client']]);
    expect(scope('mnt')).toEqual([
      ['private', 'init'],
      ['private', 'web'],
      ['private', 'app'],
      ['private', 'client'],
    ]);
    for (const t of ['cgroup', 'user', 'time']) expect(scope(t)).toEqual([['host', 'init,web,app,client']]);
    expect(groups).toEqual(s.namespaces);
  });

  it('a container with its own PID namespace reads as private, the rest of the pod as shared', () => {
    const s = load();
    member(s, 'app').process!.namespaces.pid = 1234;
    const groups = groupNamespaces(s.members, s.hostNamespaces);
    expect(groups.filter((g) => g.type === 'pid').map((g) => [g.scope, g.members.join(',')])).toEqual([
      ['shared', 'init,web,client'],
      ['private', 'app'],
    ]);
  });
});

describe('explain: text', () => {
  const text = renderText(load());

  it("says what a pod is, in the kernel's terms", () => {
    expect(text).toContain('init, web, app and client are 4 ordinary processes on');
    expect(text).toMatch(/share the pid, net, ipc and uts\s+namespaces/);
    expect(text).toMatch(/In cgroup, user and time they are not isolated/);
  });

  it('lists every member with its host pid and process tree, and the init container that ended', () => {
    expect(text).toMatch(/web +6110 +nginx: master process/);
    expect(text).toMatch(/└─ 6147 +nginx: worker process +\(uid 65534\)/);
    expect(text).toMatch(/setup +no process \(minipod records it terminated: Completed, exit 0\)/);
  });

  it('shows shared namespaces as shared and private ones as private, with their inodes', () => {
    expect(text).toMatch(/shared by the whole pod:\n(.*\n){0,3} +net +4026532326 +init, web, app, client/);
    expect(text).toMatch(/private, one per member:\n +mnt +4026532467 +init/);
    expect(text).toMatch(/mnt +4026532473 +web/);
  });

  it("shows each cgroup with its limit and use, and the pod's total", () => {
    expect(text).toMatch(/├─ web +memory 1\.8 MiB of 64 MiB/);
    expect(text).toMatch(/memory [\d.]+ [KM]iB of 192 MiB/);
    expect(text).toContain('cpu 0.25 CPU (25000/100000 µs), throttled in 1 of 7 periods · pids 2');
    expect(text).toContain('/sys/fs/cgroup/unified/minipod-exp/blog');
  });

  it('shows root filesystems, volumes, privileges and the network', () => {
    expect(text).toMatch(/upper \S+\/containers\/web\/upper +\(this container's writes\)/);
    expect(text).toMatch(/\/etc\/nginx\/blog <- \S+\/volumes\/nginx-conf \(ext4, ro\)/);
    expect(text).toMatch(/web, app, client:\n +uid 0\/0\/0\/0 gid 0\/0\/0\/0; capabilities \(14\): chown/);
    expect(text).toContain("the host's user namespace: uid 0 is the host's root");
    expect(text).toMatch(/veth pair: eth0 \(ifindex 2, in the pod\) <-> veth\w+ \(ifindex \d+, on the host, in bridge minipod0\)/);
    expect(text).toContain('port 0.0.0.0:8080 -> web:80/TCP (DNAT rule in iptables nat: yes; listening: yes)');
    expect(text).toContain("minipod's record and the kernel agree.");
  });
});

describe('explain: differences between the record and the kernel', () => {
  const expected = (): Expected => ({
    limits: new Map([
      ['', { memoryMaxBytes: 192 * 2 ** 20, cpuQuotaUs: 75_000, pidsMax: 2048 }],
      ['web', { memoryMaxBytes: 64 * 2 ** 20, cpuQuotaUs: 25_000 }],
      ['app', { memoryMaxBytes: 64 * 2 ** 20, cpuQuotaUs: 25_000 }],
    ]),
    sharedWithInit: ['pid', 'net', 'ipc', 'uts'],
    hostOwned: [],
    ip: '10.89.0.2',
  });

  it('finds none on the recorded pod', () => {
    const { differences, ...rest } = load();
    expect(differences).toEqual([]);
    expect(findDifferences(rest, expected())).toEqual([]);
  });

  it('reports a process gone, a limit changed by hand, a new pid, a missing DNAT rule', () => {
    const s = load();
    member(s, 'app').process = null;
    member(s, 'web').cgroup!.limits.memoryMaxBytes = 32 * 2 ** 20;
    member(s, 'client').recorded.pid = 99999;
    s.network.ports[0]!.dnat = false;
    const diffs = findDifferences(s, expected());
    expect(diffs).toEqual([
      { subject: 'web', what: 'memory limit', recorded: '64 MiB', kernel: '32 MiB' },
      { subject: 'app', what: 'process', recorded: 'running as pid 6111', kernel: 'no such process: it is gone' },
      { subject: 'client', what: 'pid', recorded: '99999', kernel: '6117 (sh) in its cgroup' },
      { subject: 'web', what: 'port', recorded: '0.0.0.0:8080 -> 80/TCP', kernel: 'no DNAT rule in the nat table' },
    ]);
    const text = renderText({ ...s, differences: diffs });
    expect(text).toContain("minipod's record and the kernel DISAGREE (4):");
    expect(text).toContain('web: memory limit: minipod recorded 64 MiB; the kernel has 32 MiB');
    expect(renderSvg({ ...s, differences: diffs })).toContain(
      'app: process: recorded running as pid 6111; kernel: no such process: it is gone',
    );
  });

  it("reports a container that left the pod's network namespace", () => {
    const s = load();
    member(s, 'web').process!.namespaces.net = 4026530000;
    expect(findDifferences(s, expected())).toEqual([
      { subject: 'web', what: 'net namespace', recorded: "the pod's (4026532326)", kernel: 'its own (4026530000)' },
    ]);
  });
});

describe('explain: SVG', () => {
  const svg = renderSvg(load());

  it('is well-formed SVG with a size', () => {
    assertWellFormedXml(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
  });

  it('draws a box per process, a region per mount namespace, the pod region and the cgroup tree', () => {
    const count = (cls: string) => (svg.match(new RegExp(`class="${cls}"`, 'g')) ?? []).length;
    // Four main processes (init, web, app, client) and the legend's swatch; the two children (nginx worker, sleep).
    expect(count('proc')).toBe(4 + 1);
    expect(count('child')).toBe(2);
    // One dashed mount-namespace region per running member, plus the legend's swatch.
    expect(count('mnt')).toBe(4 + 1);
    expect(count('cg')).toBe(1 + 5 + 1);
    expect(svg).toContain('shared by all: pid 4026532325 · net 4026532326 · ipc 4026532324 · uts 4026532323');
    expect(svg).toContain("the host's own, not isolated: cgroup 4026531835 · user 4026531837 · time 4026531834");
    expect(svg).toContain('mem 1.8 MiB / 64 MiB');
    expect(svg).toContain('port 0.0.0.0:8080 -&gt; web:80/TCP (DNAT ok, listening)');
  });

  it('escapes what processes put in their command lines', () => {
    const s = load();
    member(s, 'app').process!.cmdline = ['sh', '-c', 'echo "<script>&'];
    const out = renderSvg(s);
    assertWellFormedXml(out);
    expect(out).toContain('sh -c echo &quot;&lt;script&gt;&amp;');
  });
});

describe('explain: dot', () => {
  it('nests the members in the pod cluster in the host cluster, with the cgroup tree', () => {
    const dot = renderDot(load());
    expect(dot.startsWith('digraph "minipod explain blog" {')).toBe(true);
    expect((dot.match(/{/g) ?? []).length).toBe((dot.match(/}/g) ?? []).length);
    expect(dot).toContain('subgraph cluster_pod');
    expect(dot).toContain('label="shared by the pod: pid 4026532325, net 4026532326, ipc 4026532324, uts 4026532323"');
    expect(dot).toMatch(/p6110 \[label="web\\npid 6110 \(23 inside\)/);
    expect(dot).toContain('p6110 -> p6147;');
    expect(dot).toMatch(/cg_pod -> cg\d+/);
  });
});

describe('explain: the JSON schema is documented', () => {
  it('names every field of a recorded snapshot in docs/explain.md', () => {
    const doc = fs.readFileSync(path.join(here, '../../../docs/explain.md'), 'utf8');
    const keys = new Set<string>();
    // Maps whose keys are data (hierarchy names, file names, namespace types), not fields.
    const maps = new Set(['dirs', 'sources', 'hostNamespaces']);
    const walk = (v: unknown, parent: string): void => {
      if (Array.isArray(v)) return v.forEach((x) => walk(x, parent));
      if (v === null || typeof v !== 'object') return;
      for (const [k, child] of Object.entries(v)) {
        if (!maps.has(parent) && !(parent === 'namespaces' && !Array.isArray(v))) keys.add(k);
        walk(child, k);
      }
    };
    walk(load(), '');
    const missing = [...keys].filter((k) => !doc.includes(`\`${k}\``) && !doc.includes(`\`${k}[]\``));
    expect(missing).toEqual([]);
    expect(keys.size).toBeGreaterThan(80);
  });
});
