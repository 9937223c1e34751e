/**
 * `minipod explain POD`: the snapshot as text for a terminal (pure). Written for someone who has
 * never looked under a container runtime: it first says what a pod is made of, then shows the
 * processes, the namespaces they share or not, the cgroups that limit them, their files,
 * privileges and network, and last where minipod's record and the kernel disagree.
 */
import { formatBytes, formatCpus, formatLimit, shortCommand } from './format.js';
import { groupOf } from './namespaces.js';
import type { CgroupFacts, ExplainSnapshot, IdMapEntry, Member, NamespaceGroup, ProcessNode } from './snapshot.js';

const NS_MEANING: Record<string, string> = {
  pid: 'process ids: who it can see and signal',
  net: 'interfaces, addresses, ports, localhost',
  ipc: 'System V IPC and POSIX message queues',
  uts: 'hostname',
  mnt: 'mount table: its own root filesystem',
  cgroup: 'the cgroup tree it sees',
  user: 'user and group ids, capabilities',
  time: 'boot and monotonic clocks',
};

/** What sharing a namespace of each type means, to finish "they see the same ...". */
const SEE_THE_SAME: Record<string, string> = {
  pid: 'processes',
  net: 'network and localhost',
  ipc: 'IPC objects',
  uts: 'hostname',
  mnt: 'files',
  cgroup: 'cgroup tree',
  user: 'users',
  time: 'clocks',
};

function englishList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function wrap(text: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out;
}

function running(s: ExplainSnapshot): Member[] {
  return s.members.filter((m) => m.process);
}

function intro(s: ExplainSnapshot): string[] {
  const live = running(s).map((m) => m.name);
  const pod = s.namespaces.filter((g) => g.scope === 'pod').map((g) => g.type);
  const own = [...new Set(s.namespaces.filter((g) => g.scope === 'private').map((g) => g.type))];
  const host = [...new Set(s.namespaces.filter((g) => g.scope === 'host').map((g) => g.type))];
  const lines = [`Pod ${s.pod.name} (${s.pod.phase}), as the kernel sees it at ${s.takenAt}`, ''];
  const text =
    live.length === 0
      ? 'No process of this pod runs: the kernel has nothing left of it but what is listed below.'
      : `The kernel knows no "pod" and no "container": ${englishList(live)} are ${live.length === 1 ? 'an ordinary process' : `${live.length} ordinary processes`} on this host. ` +
        (pod.length > 0
          ? `They are one pod because they share the ${englishList(pod)} namespaces (same inode = same namespace: they see the same ${englishList(pod.map((t) => SEE_THE_SAME[t] ?? t))}). `
          : '') +
        (own.length > 0
          ? `Each has its own ${englishList(own)} namespace${own.length > 1 ? 's' : ''}${own.includes('mnt') ? ' (its own root filesystem)' : ''}. `
          : '') +
        (host.length > 0 ? `In ${englishList(host)} they are not isolated: those are the host's own namespaces. ` : '') +
        'Each sits in a cgroup, where the kernel counts and limits the memory, CPU and number of processes it may use.';
  lines.push(...wrap(text, ''));
  return lines;
}

function user(p: ProcessNode): string {
  return `uid ${p.uid[1] ?? '?'}`;
}

function treeLines(p: ProcessNode, prefix: string, out: string[]): void {
  p.children.forEach((c, i) => {
    const last = i === p.children.length - 1;
    out.push(
      `${prefix}${last ? '└─' : '├─'} ${c.pid}  ${shortCommand(c.cmdline, c.comm, 56)}  (${user(c)}${c.state === 'Z' ? ', zombie' : ''})`,
    );
    treeLines(c, prefix + (last ? '   ' : '│  '), out);
  });
}

function processes(s: ExplainSnapshot, width: number): string[] {
  const out = ['Processes (host pid, command, pid inside its PID namespace)'];
  for (const m of s.members) {
    const name = m.name.padEnd(width);
    const p = m.process;
    if (!p) {
      const r = m.recorded;
      const why = [r.reason, r.exitCode !== undefined ? `exit ${r.exitCode}` : ''].filter(Boolean).join(', ');
      out.push(`  ${name}  no process (minipod records it ${r.state}${why ? `: ${why}` : ''})`);
      continue;
    }
    const inner = p.nspid.length > 1 ? `, pid ${p.nspid.at(-1)} inside` : '';
    out.push(`  ${name}  ${String(p.pid).padEnd(7)} ${shortCommand(p.cmdline, p.comm)}  (${user(p)}${inner})`);
    treeLines(p, `  ${' '.repeat(width)}  `, out);
  }
  return out;
}

function namespaceLines(s: ExplainSnapshot): string[] {
  const out = ['Namespaces (what each process can see; same inode = shared)'];
  const section = (title: string, groups: NamespaceGroup[]): void => {
    if (groups.length === 0) return;
    out.push(`  ${title}`);
    for (const g of groups) {
      out.push(
        `    ${g.type.padEnd(6)} ${String(g.inode).padEnd(11)} ${g.members.join(', ').padEnd(28)} ${NS_MEANING[g.type] ?? ''}`.trimEnd(),
      );
    }
  };
  section(
    'shared by the whole pod:',
    s.namespaces.filter((g) => g.scope === 'pod'),
  );
  section(
    'shared by some members:',
    s.namespaces.filter((g) => g.scope === 'shared'),
  );
  section(
    'private, one per member:',
    s.namespaces.filter((g) => g.scope === 'private'),
  );
  section(
    "the host's own (not isolated):",
    s.namespaces.filter((g) => g.scope === 'host'),
  );
  if (s.namespaces.length === 0) out.push('  none: no process runs');
  return out;
}

/** Two lines: memory, then cpu, pids and OOM kills. */
function cgroupLine(c: CgroupFacts): string[] {
  const l = c.limits;
  const u = c.usage;
  const parts: string[] = [];
  if (u.memoryCurrentBytes !== undefined || l.memoryMaxBytes !== undefined) {
    const peak = u.memoryPeakBytes !== undefined ? ` (peak ${formatBytes(u.memoryPeakBytes)})` : '';
    const limit = l.memoryMaxBytes === null ? ', no limit of its own' : ` of ${formatLimit(l.memoryMaxBytes, formatBytes)}`;
    parts.push(`memory ${u.memoryCurrentBytes !== undefined ? formatBytes(u.memoryCurrentBytes) : '?'}${limit}${peak}`);
  }
  if (l.cpuQuotaUs === null) parts.push('cpu: no quota of its own');
  else if (l.cpuQuotaUs !== undefined) {
    const throttled = u.nrThrottled !== undefined && u.nrPeriods ? `, throttled in ${u.nrThrottled} of ${u.nrPeriods} periods` : '';
    parts.push(`cpu ${formatCpus(l.cpuQuotaUs, l.cpuPeriodUs)} (${l.cpuQuotaUs}/${l.cpuPeriodUs ?? '?'} µs)${throttled}`);
  }
  if (u.pidsCurrent !== undefined || l.pidsMax !== undefined) {
    parts.push(`pids ${u.pidsCurrent ?? '?'}${l.pidsMax === null || l.pidsMax === undefined ? '' : ` of ${l.pidsMax}`}`);
  }
  if (u.oomKills) parts.push(`OOM kills ${u.oomKills}`);
  const memory = parts[0]?.startsWith('memory') ? parts.shift()! : '';
  return [memory, parts.join(' · ')].filter(Boolean);
}

function cgroupLines(s: ExplainSnapshot): string[] {
  const out = ['Cgroups (what each may use: limits the kernel enforces, and use now)'];
  const tree = s.cgroupTree;
  if (!tree) return [...out, '  none: the pod has no cgroup any more'];
  // Children in member order (init, init containers, containers), anything else after.
  const order = (name: string): number => {
    const i = s.members.findIndex((m) => m.name === name);
    return i < 0 ? s.members.length : i;
  };
  out.push(`  ${tree.path}  (the pod: every member's use counts here too)`);
  out.push(...cgroupLine(tree).map((l) => `  │    ${l}`));
  const children = [...tree.children].sort((x, y) => order(x.name) - order(y.name));
  const width = Math.max(0, ...children.map((c) => c.name.length));
  children.forEach((c, i) => {
    const last = i === children.length - 1;
    const lines = cgroupLine(c);
    out.push(`  ${last ? '└─' : '├─'} ${c.name.padEnd(width)}  ${lines[0] ?? ''}`);
    for (const l of lines.slice(1)) out.push(`  ${last ? ' ' : '│'}  ${' '.repeat(width)}  ${l}`);
  });
  out.push('  in the hierarchies:');
  for (const [key, dir] of Object.entries(tree.dirs)) out.push(`    ${(key === 'unified' ? 'cgroup2' : key).padEnd(14)} ${dir}`);
  return out;
}

function mountLines(s: ExplainSnapshot, width: number): string[] {
  const out = ["Files (each member's mount namespace: its root filesystem and what is mounted on it)"];
  for (const m of running(s)) {
    const pad = ' '.repeat(width);
    const r = m.rootfs;
    if (r?.fsType === 'overlay') {
      out.push(`  ${m.name.padEnd(width)}  root: overlay${r.readOnly ? ' (read-only)' : ''}`);
      for (const d of r.lowerDirs ?? []) out.push(`  ${pad}    lower ${d}  (the image, never written)`);
      if (r.upperDir) out.push(`  ${pad}    upper ${r.upperDir}  (this container's writes)`);
      if (r.workDir) out.push(`  ${pad}    work  ${r.workDir}`);
    } else {
      const root = m.mounts.find((x) => x.role === 'rootfs');
      out.push(
        `  ${m.name.padEnd(width)}  root: ${r?.fsType ?? '?'} ${root ? `${root.source}${root.root !== '/' ? ` ${root.root}` : ''}` : ''}${r?.readOnly ? ' (read-only)' : ''}`,
      );
    }
    for (const b of m.mounts.filter((x) => x.role === 'bind')) {
      out.push(`  ${pad}    ${b.mountPoint} <- ${b.root !== '/' ? b.root : b.source} (${b.fsType}, ${b.readOnly ? 'ro' : 'rw'})`);
    }
    const sys = m.mounts.filter((x) => x.role === 'system').map((x) => `${x.mountPoint}${x.readOnly ? ' (ro)' : ''}`);
    if (sys.length) out.push(...wrap(`kernel: ${sys.join(', ')}`, `  ${pad}    `));
    const masked = m.mounts.filter((x) => x.role === 'masked').map((x) => x.mountPoint);
    if (masked.length) out.push(...wrap(`masked or read-only: ${masked.join(', ')}`, `  ${pad}    `));
  }
  return out;
}

function idMap(map: IdMapEntry[]): string {
  return map.map((e) => `${e.inside}->${e.outside} (${e.count})`).join(', ') || 'none';
}

function capsText(p: ProcessNode): string {
  const c = p.capabilities;
  if (!c) return 'capabilities ?';
  const eff = c.effective.length === 0 ? 'none' : c.effective.map((n) => n.replace(/^CAP_/, '').toLowerCase()).join(' ');
  const bnd = c.boundingHex === c.effectiveHex ? 'bounding set the same' : `bounding ${c.bounding.length}`;
  return `capabilities (${c.effective.length}): ${eff}; ${bnd}`;
}

function securityOf(p: ProcessNode, userScope: string): string {
  const seccomp =
    p.seccomp === 'filter'
      ? `seccomp filter (${p.seccompFilters ?? '?'} filter${p.seccompFilters === 1 ? '' : 's'})`
      : `seccomp ${p.seccomp}`;
  const users =
    userScope === 'host' ? "the host's user namespace: uid 0 is the host's root" : `uid_map ${idMap(p.uidMap)}, gid_map ${idMap(p.gidMap)}`;
  return `uid ${p.uid.join('/')} gid ${p.gid.join('/')}; ${capsText(p)}; ${seccomp}; no_new_privs ${p.noNewPrivs ? 'on' : 'off'}; ${users}`;
}

function securityLines(s: ExplainSnapshot): string[] {
  const out = ['Privileges (uid/gid real/effective/saved/fs, capabilities, seccomp, user namespace)'];
  // Members with the same privileges are listed once: the usual case is every container alike.
  const groups = new Map<string, Member[]>();
  for (const m of running(s)) {
    const text = securityOf(m.process!, groupOf(s.namespaces, 'user', m.name)?.scope ?? '?');
    groups.set(text, [...(groups.get(text) ?? []), m]);
  }
  for (const [text, members] of groups) {
    out.push(`  ${members.map((m) => m.name).join(', ')}:`);
    out.push(...wrap(text, '    '));
    for (const m of members) {
      const p = m.process!;
      const differing = (node: ProcessNode): void => {
        for (const c of node.children) {
          if (
            c.uid[1] !== p.uid[1] ||
            c.capabilities?.effectiveHex !== p.capabilities?.effectiveHex ||
            c.seccomp !== p.seccomp ||
            c.noNewPrivs !== p.noNewPrivs
          ) {
            out.push(
              ...wrap(
                `${m.name} child ${c.pid} (${c.comm}): uid ${c.uid.join('/')}; ${capsText(c)}; seccomp ${c.seccomp}; no_new_privs ${c.noNewPrivs ? 'on' : 'off'}`,
                '    ',
              ),
            );
          }
          differing(c);
        }
      };
      differing(p);
    }
  }
  return out;
}

function networkLines(s: ExplainSnapshot): string[] {
  const n = s.network;
  const out = ['Network'];
  if (n.netns === undefined) return [...out, "  no process holds the pod's network namespace any more"];
  if (n.hostNetns) out.push(`  hostNetwork: the pod uses the host's network namespace (net ${n.netns}): the host's interfaces and ports`);
  else out.push(`  network namespace net ${n.netns}${n.mode ? ` (${n.mode} network)` : ''}`);
  if (n.error) out.push(`  ${n.error}`);
  for (const i of n.interfaces) {
    out.push(`  ${i.name} ${i.addresses.join(' ') || '(no address)'}${i.mac ? `  mac ${i.mac}` : ''}`);
    if (i.peer) {
      out.push(
        `    veth pair: ${i.name} (ifindex ${i.ifindex}, in the pod) <-> ${i.peer.name} (ifindex ${i.peer.ifindex}, on the host${i.peer.master ? `, in bridge ${i.peer.master}` : ''})`,
      );
    }
  }
  if (n.ip) out.push(`  pod IP: ${n.ip}`);
  for (const p of n.ports) {
    const how = n.hostNetns
      ? 'bound on the host directly'
      : p.dnat
        ? 'DNAT rule in iptables nat: yes'
        : 'DNAT rule in iptables nat: MISSING';
    const listen = p.listening === undefined ? '' : `; listening: ${p.listening ? 'yes' : 'no'}`;
    out.push(`  port ${p.hostIP || '0.0.0.0'}:${p.hostPort} -> ${p.container}:${p.containerPort}/${p.protocol} (${how}${listen})`);
  }
  if (n.ports.length === 0) out.push('  no published ports');
  return out;
}

function differenceLines(s: ExplainSnapshot): string[] {
  if (s.differences.length === 0) return ["minipod's record and the kernel agree."];
  const out = [`minipod's record and the kernel DISAGREE (${s.differences.length}):`];
  for (const d of s.differences) out.push(`  ${d.subject}: ${d.what}: minipod recorded ${d.recorded}; the kernel has ${d.kernel}`);
  return out;
}

export function renderText(s: ExplainSnapshot): string {
  const width = Math.max(6, ...s.members.map((m) => m.name.length));
  const blocks = [
    intro(s),
    processes(s, width),
    namespaceLines(s),
    cgroupLines(s),
    mountLines(s, width),
    securityLines(s),
    networkLines(s),
    differenceLines(s),
  ];
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}
