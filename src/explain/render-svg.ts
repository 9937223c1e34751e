/**
 * `minipod explain POD --format svg`: one picture of the pod (pure, no dependency): the seed's
 * "containers are just processes" figure drawn from the kernel's facts.
 *
 *   host (grey): the namespaces nobody isolated
 *   └ pod (blue): the namespaces every member shares (net, ipc, uts, pid)
 *     └ one column per member (dashed, amber): its own mount namespace, its process tree as
 *       boxes, its root filesystem and volumes
 *   network: the pod's interface, the veth peer on the host, the published ports
 *   cgroups (green): the pod's cgroup and below it each member's, in the member's column, with
 *   the limits the kernel enforces and a bar of the memory in use
 *
 * Text is measured by character count (monospace 12px ~ 7.2px a character) and cut to fit.
 */
import { formatBytes, formatCpus, shortCommand } from './format.js';
import type { CgroupFacts, CgroupTreeNode, ExplainSnapshot, Member, NamespaceGroup, ProcessNode } from './snapshot.js';

const M = 20;
const COL = 250;
const GAP = 14;
const PAD = 16;
const LINE = 15;
const CHAR = 7.2;
const MAX_TREE = 7;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fit(s: string, width: number): string {
  const max = Math.max(4, Math.floor(width / CHAR));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Collects SVG elements; every text goes through esc and fit. */
class Canvas {
  readonly parts: string[] = [];
  rect(x: number, y: number, w: number, h: number, cls: string, rx = 6): void {
    this.parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${rx}" class="${cls}"/>`);
  }
  text(x: number, y: number, s: string, cls: string, width: number): void {
    this.parts.push(`<text x="${x}" y="${y}" class="${cls}">${esc(fit(s, width))}</text>`);
  }
  line(x1: number, y1: number, x2: number, y2: number, cls: string): void {
    this.parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" class="${cls}"/>`);
  }
}

const STYLE = `
  text { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; fill: #222; }
  .title { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 18px; font-weight: bold; }
  .sub { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 13px; fill: #555; }
  .label { font-weight: bold; }
  .small { font-size: 11px; fill: #444; }
  .muted { font-size: 11px; fill: #888; }
  .warn { fill: #b00020; font-weight: bold; }
  .host { fill: #f4f4f4; stroke: #9a9a9a; stroke-width: 1.5; }
  .pod { fill: #e6f0fc; stroke: #2f6fc9; stroke-width: 2; }
  .mnt { fill: #fff8e6; stroke: #d29b00; stroke-width: 1.5; stroke-dasharray: 6 4; }
  .gone { fill: #fafafa; stroke: #aaa; stroke-width: 1; stroke-dasharray: 3 3; }
  .proc { fill: #ffffff; stroke: #333; stroke-width: 1.2; }
  .child { fill: #ffffff; stroke: #777; stroke-width: 1; }
  .net { fill: #efe6fb; stroke: #7a4cc2; stroke-width: 1.5; }
  .cg { fill: #e9f7ea; stroke: #2e8b3a; stroke-width: 1.5; }
  .bar { fill: #ffffff; stroke: #2e8b3a; stroke-width: 1; }
  .fill { fill: #2e8b3a; }
  .fillhot { fill: #d9822b; }
  .diff { fill: #fdecee; stroke: #b00020; stroke-width: 1.5; }
  .edge { stroke: #2e8b3a; stroke-width: 1.5; }
  .link { stroke: #7a4cc2; stroke-width: 1.5; stroke-dasharray: 4 3; }
  .tree { stroke: #777; stroke-width: 1; }
`;

function nsList(groups: NamespaceGroup[]): string {
  return groups.map((g) => `${g.type} ${g.inode}`).join(' · ');
}

/** Process boxes below the main one: depth-first, at most MAX_TREE, then "+N more". */
function flatTree(p: ProcessNode): { node: ProcessNode; depth: number }[] {
  const out: { node: ProcessNode; depth: number }[] = [];
  const walk = (n: ProcessNode, depth: number): void => {
    for (const c of n.children) {
      out.push({ node: c, depth });
      walk(c, depth + 1);
    }
  };
  walk(p, 1);
  return out;
}

function countTree(p: ProcessNode): number {
  return p.children.reduce((n, c) => n + 1 + countTree(c), 0);
}

/** Lines under a member's process boxes: its own namespaces, root filesystem and volumes. */
function memberFooter(m: Member, s: ExplainSnapshot): { text: string; cls: string }[] {
  const out: { text: string; cls: string }[] = [];
  const own = s.namespaces.filter((g) => g.members.includes(m.name) && g.type !== 'mnt' && (g.scope === 'private' || g.scope === 'shared'));
  for (const g of own)
    out.push({
      text: `${g.type} ${g.inode} ${g.scope === 'private' ? '(its own)' : `(with ${g.members.filter((n) => n !== m.name).join(', ')})`}`,
      cls: 'small',
    });
  const r = m.rootfs;
  if (r?.fsType === 'overlay') {
    const image = (r.lowerDirs ?? [])[0] ?? '';
    const id = /sha256\/([0-9a-f]{12})/.exec(image)?.[1];
    out.push({ text: `root: overlay${r.readOnly ? ' (ro)' : ''}`, cls: 'small' });
    out.push({ text: `  lower: image ${id ?? image}`, cls: 'muted' });
    if (r.upperDir) out.push({ text: `  upper: …/${r.upperDir.split('/').slice(-3).join('/')}`, cls: 'muted' });
  } else if (r) {
    out.push({ text: `root: ${r.fsType}${r.readOnly ? ' (ro)' : ''}`, cls: 'small' });
  }
  for (const b of m.mounts.filter((x) => x.role === 'bind' && !/^\/etc\/(hosts|hostname|resolv\.conf)$/.test(x.mountPoint))) {
    out.push({ text: `vol ${b.mountPoint} (${b.readOnly ? 'ro' : 'rw'})`, cls: 'small' });
  }
  return out;
}

function memberHeight(m: Member, s: ExplainSnapshot): number {
  if (!m.process) return 64;
  const tree = Math.min(MAX_TREE, countTree(m.process)) + (countTree(m.process) > MAX_TREE ? 1 : 0);
  return 26 + 52 + tree * 24 + 8 + memberFooter(m, s).length * LINE + 10;
}

function drawMember(c: Canvas, m: Member, s: ExplainSnapshot, x: number, y: number, h: number): void {
  const w = COL;
  if (!m.process) {
    c.rect(x, y, w, 64, 'gone');
    c.text(x + 10, y + 20, `${m.name} (${m.kind === 'initContainer' ? 'init container' : m.kind})`, 'label', w - 20);
    const r = m.recorded;
    c.text(x + 10, y + 38, `no process: ${r.state}`, 'muted', w - 20);
    c.text(x + 10, y + 53, [r.reason, r.exitCode !== undefined ? `exit ${r.exitCode}` : ''].filter(Boolean).join(', '), 'muted', w - 20);
    return;
  }
  const mnt = s.namespaces.find((g) => g.type === 'mnt' && g.members.includes(m.name));
  c.rect(x, y, w, h, 'mnt');
  c.text(x + 10, y + 17, `mnt ${mnt?.inode ?? '?'}${mnt?.scope === 'private' ? ' (its own files)' : ''}`, 'small', w - 20);
  const p = m.process;
  const bx = x + 10;
  let by = y + 26;
  c.rect(bx, by, w - 20, 48, 'proc', 4);
  const inner = p.nspid.length > 1 ? ` (${p.nspid.at(-1)} inside)` : '';
  c.text(bx + 8, by + 16, `${m.name}${m.kind === 'init' ? ' (pod init)' : ''}`, 'label', w - 36);
  c.text(bx + 8, by + 30, `pid ${p.pid}${inner} · uid ${p.uid[1] ?? '?'}`, 'small', w - 36);
  c.text(bx + 8, by + 43, shortCommand(p.cmdline, p.comm, 80), 'small', w - 36);
  by += 52;
  const all = flatTree(p);
  for (const { node, depth } of all.slice(0, MAX_TREE)) {
    const indent = Math.min(depth, 4) * 12;
    c.line(bx + indent - 6, by - 4, bx + indent - 6, by + 10, 'tree');
    c.line(bx + indent - 6, by + 10, bx + indent, by + 10, 'tree');
    c.rect(bx + indent, by, w - 20 - indent, 20, 'child', 3);
    c.text(
      bx + indent + 6,
      by + 14,
      `${node.pid} ${shortCommand(node.cmdline, node.comm, 60)}${node.uid[1] !== p.uid[1] ? ` (uid ${node.uid[1]})` : ''}`,
      'small',
      w - 32 - indent,
    );
    by += 24;
  }
  if (all.length > MAX_TREE) {
    c.text(bx + 12, by + 12, `+${all.length - MAX_TREE} more processes`, 'muted', w - 30);
    by += 24;
  }
  by += 8;
  for (const line of memberFooter(m, s)) {
    by += LINE;
    c.text(bx, by, line.text, line.cls, w - 20);
  }
}

function cgroupBody(f: CgroupFacts): string[] {
  const l = f.limits;
  const u = f.usage;
  const mem = `mem ${u.memoryCurrentBytes !== undefined ? formatBytes(u.memoryCurrentBytes) : '?'} / ${l.memoryMaxBytes === null ? 'no limit' : l.memoryMaxBytes !== undefined ? formatBytes(l.memoryMaxBytes) : '?'}`;
  const cpu = `cpu ${l.cpuQuotaUs === null ? 'no quota' : formatCpus(l.cpuQuotaUs, l.cpuPeriodUs)}${u.nrThrottled ? ` · throttled ${u.nrThrottled}/${u.nrPeriods ?? '?'}` : ''}`;
  const pids = `pids ${u.pidsCurrent ?? '?'} / ${l.pidsMax === null ? 'no limit' : (l.pidsMax ?? '?')}${u.oomKills ? ` · OOM kills ${u.oomKills}` : ''}`;
  return [mem, cpu, pids];
}

function drawCgroup(c: Canvas, f: CgroupFacts, name: string, x: number, y: number, w: number): void {
  c.rect(x, y, w, 84, 'cg');
  c.text(x + 10, y + 17, name, 'label', w - 20);
  const lines = cgroupBody(f);
  lines.forEach((t, i) => c.text(x + 10, y + 33 + i * LINE, t, 'small', w - 20));
  const max = f.limits.memoryMaxBytes;
  const used = f.usage.memoryCurrentBytes;
  if (max && used !== undefined) {
    const bw = w - 20;
    const frac = Math.min(1, used / max);
    c.rect(x + 10, y + 72, bw, 6, 'bar', 2);
    c.rect(x + 10, y + 72, Math.max(1, Math.round(bw * frac)), 6, frac > 0.8 ? 'fillhot' : 'fill', 2);
  }
}

export function renderSvg(s: ExplainSnapshot): string {
  const c = new Canvas();
  const tree = s.cgroupTree;
  const memberNames = new Set(s.members.map((m) => m.name));
  const extraCgroups = (tree?.children ?? []).filter((k) => !memberNames.has(k.name) && k.name !== 'init');
  const columns = s.members.length + extraCgroups.length;
  const podW = columns * COL + (columns - 1) * GAP + 2 * PAD;
  const width = podW + 2 * PAD + 2 * M;
  const colX = (i: number): number => M + 2 * PAD + i * (COL + GAP);

  const hostNs = s.namespaces.filter((g) => g.scope === 'host');
  const podNs = s.namespaces.filter((g) => g.scope === 'pod');
  const hostTop = 64;
  const podTop = hostTop + 44;
  const colTop = podTop + 62;
  const colH = Math.max(64, ...s.members.map((m) => memberHeight(m, s)));
  const podBottom = colTop + colH + PAD;
  const netTop = podBottom + 16;
  const netH = 28 + Math.max(1, s.network.ports.length) * LINE;
  const cgTop = netTop + netH + 34;
  const cgChildTop = cgTop + 84 + 30;
  const hostBottom = cgChildTop + 84 + PAD;

  c.text(M, 28, `Pod ${s.pod.name} (${s.pod.phase}): processes, namespaces and cgroups`, 'title', width - 2 * M);
  c.text(M, 48, `as the kernel reports them (/proc, /sys/fs/cgroup, netlink) at ${s.takenAt}`, 'sub', width - 2 * M);

  c.rect(M, hostTop, width - 2 * M, hostBottom - hostTop, 'host', 10);
  c.text(M + 12, hostTop + 18, 'host', 'label', 60);
  c.text(
    M + 60,
    hostTop + 18,
    hostNs.length
      ? `the host's own, not isolated: ${nsList(hostNs.filter((g, i, a) => a.findIndex((x) => x.type === g.type) === i))}`
      : 'every namespace below is isolated from the host',
    'small',
    width - 2 * M - 72,
  );

  const podX = M + PAD;
  c.rect(podX, podTop, podW, podBottom - podTop, 'pod', 10);
  c.text(podX + 12, podTop + 20, `pod ${s.pod.name}: one set of shared namespaces`, 'label', podW - 24);
  c.text(
    podX + 12,
    podTop + 38,
    podNs.length ? `shared by all: ${nsList(podNs)}` : 'no namespace is shared by every member',
    'small',
    podW - 24,
  );
  const eth = s.network.interfaces.find((i) => i.peer) ?? s.network.interfaces[0];
  const netLabel = s.network.hostNetns
    ? "network: the host's (hostNetwork)"
    : eth
      ? `${eth.name} ${eth.addresses.find((a) => !a.includes(':')) ?? ''}`
      : '';
  if (netLabel) c.text(podX + 12, podTop + 54, netLabel, 'small', podW - 24);

  s.members.forEach((m, i) => drawMember(c, m, s, colX(i), colTop, colH));

  // Network: the host side of the pod's interface and the published ports.
  c.rect(podX, netTop, podW, netH, 'net', 8);
  const peer = eth?.peer;
  const netLine = s.network.hostNetns
    ? `hostNetwork: the pod uses the host's interfaces (net ${s.network.netns ?? '?'})`
    : peer
      ? `veth pair: ${eth!.name} (pod, ifindex ${eth!.ifindex}) <-> ${peer.name} (host, ifindex ${peer.ifindex})${peer.master ? ` on bridge ${peer.master}` : ''}`
      : s.network.netns !== undefined
        ? `net ${s.network.netns}: no veth${s.network.error ? ` (${s.network.error})` : ''}`
        : 'no network namespace: no process holds it';
  c.text(podX + 12, netTop + 18, netLine, 'small', podW - 24);
  if (peer) c.line(podX + 7, podTop + 50, podX + 7, netTop, 'link');
  s.network.ports.forEach((p, i) => {
    const state = s.network.hostNetns ? 'bound on the host' : p.dnat ? 'DNAT ok' : 'DNAT MISSING';
    c.text(
      podX + 12,
      netTop + 18 + (i + 1) * LINE,
      `port ${p.hostIP || '0.0.0.0'}:${p.hostPort} -> ${p.container}:${p.containerPort}/${p.protocol} (${state}${p.listening === undefined ? '' : p.listening ? ', listening' : ', NOT listening'})`,
      p.dnat || s.network.hostNetns ? 'small' : 'warn',
      podW - 24,
    );
  });
  if (s.network.ports.length === 0) c.text(podX + 12, netTop + 18 + LINE, 'no published ports', 'muted', podW - 24);

  // Cgroups: the pod's, then each member's in its column.
  c.text(podX, cgTop - 10, 'cgroups: what each may use (limits the kernel enforces) and uses now', 'label', podW);
  if (tree) {
    const cw = Math.min(podW, 2 * COL + GAP);
    const cx = podX + (podW - cw) / 2;
    drawCgroup(c, tree, `${tree.path} (pod)`, cx, cgTop, cw);
    const byName = new Map(tree.children.map((k) => [k.name, k] as [string, CgroupTreeNode]));
    const slots: [number, CgroupTreeNode | undefined, string][] = [
      ...s.members.map((m, i): [number, CgroupTreeNode | undefined, string] => [i, byName.get(m.name), m.name]),
      ...extraCgroups.map((k, j): [number, CgroupTreeNode | undefined, string] => [s.members.length + j, k, k.name]),
    ];
    const busY = cgTop + 84 + 14;
    const xs = slots.filter(([, k]) => k).map(([i]) => colX(i) + COL / 2);
    if (xs.length) {
      c.line(cx + cw / 2, cgTop + 84, cx + cw / 2, busY, 'edge');
      c.line(Math.min(...xs, cx + cw / 2), busY, Math.max(...xs, cx + cw / 2), busY, 'edge');
    }
    for (const [i, k, name] of slots) {
      if (!k) continue;
      c.line(colX(i) + COL / 2, busY, colX(i) + COL / 2, cgChildTop, 'edge');
      drawCgroup(c, k, memberNames.has(name) ? name : `${name} (no member)`, colX(i), cgChildTop, COL);
    }
  } else {
    c.text(podX, cgTop + 20, 'the pod has no cgroup any more', 'muted', podW);
  }

  // What disagrees with minipod's record, then the legend.
  let y = hostBottom + 22;
  if (s.differences.length) {
    const h = 24 + s.differences.length * LINE;
    c.rect(M, y - 6, width - 2 * M, h, 'diff', 6);
    c.text(M + 10, y + 10, "minipod's record and the kernel disagree:", 'warn', width - 2 * M - 20);
    s.differences.forEach((d, i) =>
      c.text(
        M + 10,
        y + 10 + (i + 1) * LINE,
        `${d.subject}: ${d.what}: recorded ${d.recorded}; kernel: ${d.kernel}`,
        'small',
        width - 2 * M - 20,
      ),
    );
    y += h + 10;
  }
  const legend: [string, string][] = [
    ['pod', 'namespaces the pod shares'],
    ['mnt', "a member's own mount namespace"],
    ['proc', 'a process (host pid)'],
    ['cg', 'a cgroup'],
    ['host', "the host's"],
  ];
  let lx = M;
  for (const [cls, label] of legend) {
    c.rect(lx, y + 2, 18, 12, cls, 2);
    c.text(lx + 24, y + 12, label, 'small', label.length * CHAR + 4);
    lx += 24 + label.length * CHAR + 22;
  }
  const height = y + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${esc(`minipod explain ${s.pod.name}`)}</title>`,
    `<style>${STYLE}</style>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...c.parts,
    '</svg>',
    '',
  ].join('\n');
}
