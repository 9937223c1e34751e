/**
 * `minipod explain POD --format dot` (pure): the same picture as the SVG for Graphviz
 * (`| dot -Tsvg`), for those who want to restyle it: clusters for the host, the pod's shared
 * namespaces and each member's mount namespace, a node per process, and the cgroup tree.
 */
import { formatBytes, formatCpus, shortCommand } from './format.js';
import type { CgroupFacts, ExplainSnapshot, ProcessNode } from './snapshot.js';

function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function cgroupLabel(name: string, f: CgroupFacts): string {
  const l = f.limits;
  const u = f.usage;
  const mem = `mem ${u.memoryCurrentBytes !== undefined ? formatBytes(u.memoryCurrentBytes) : '?'} / ${l.memoryMaxBytes === null ? 'no limit' : l.memoryMaxBytes !== undefined ? formatBytes(l.memoryMaxBytes) : '?'}`;
  const cpu = `cpu ${l.cpuQuotaUs === null ? 'no quota' : formatCpus(l.cpuQuotaUs, l.cpuPeriodUs)}`;
  const pids = `pids ${u.pidsCurrent ?? '?'} / ${l.pidsMax === null ? 'no limit' : (l.pidsMax ?? '?')}`;
  return `${name}\n${mem}\n${cpu}\n${pids}${u.oomKills ? `\nOOM kills ${u.oomKills}` : ''}`;
}

export function renderDot(s: ExplainSnapshot): string {
  const out: string[] = [
    `digraph ${q(`minipod explain ${s.pod.name}`)} {`,
    '  compound=true; rankdir=TB; node [shape=box, fontname="monospace", fontsize=10]; edge [fontsize=9];',
    `  label=${q(`pod ${s.pod.name} (${s.pod.phase}) as the kernel reports it at ${s.takenAt}`)}; labelloc=t;`,
  ];
  const hostNs = s.namespaces.filter((g) => g.scope === 'host');
  const podNs = s.namespaces.filter((g) => g.scope === 'pod');
  const uniq = hostNs.filter((g, i, a) => a.findIndex((x) => x.type === g.type) === i);
  out.push(
    '  subgraph cluster_host {',
    `    label=${q(`host: ${uniq.map((g) => `${g.type} ${g.inode}`).join(', ') || 'nothing shared with the host'}`)}; style=filled; fillcolor="#f4f4f4";`,
  );
  out.push(
    '    subgraph cluster_pod {',
    `      label=${q(`shared by the pod: ${podNs.map((g) => `${g.type} ${g.inode}`).join(', ') || 'none'}`)}; style=filled; fillcolor="#e6f0fc"; color="#2f6fc9";`,
  );
  const tree = (p: ProcessNode, indent: string): void => {
    for (const c of p.children) {
      out.push(`${indent}p${c.pid} [label=${q(`${c.pid} ${shortCommand(c.cmdline, c.comm, 40)}\nuid ${c.uid[1] ?? '?'}`)}];`);
      out.push(`${indent}p${p.pid} -> p${c.pid};`);
      tree(c, indent);
    }
  };
  s.members.forEach((m, i) => {
    if (!m.process) {
      out.push(`      m${i} [label=${q(`${m.name}\nno process: ${m.recorded.state}`)}, style=dashed];`);
      return;
    }
    const mnt = s.namespaces.find((g) => g.type === 'mnt' && g.members.includes(m.name));
    const own = s.namespaces.filter((g) => g.members.includes(m.name) && (g.scope === 'private' || g.scope === 'shared'));
    out.push(
      `      subgraph cluster_m${i} {`,
      `        label=${q(own.map((g) => `${g.type} ${g.inode}`).join('\n') || `mnt ${mnt?.inode ?? '?'}`)}; style="dashed,filled"; fillcolor="#fff8e6"; color="#d29b00";`,
    );
    const p = m.process;
    out.push(
      `        p${p.pid} [label=${q(`${m.name}\npid ${p.pid}${p.nspid.length > 1 ? ` (${p.nspid.at(-1)} inside)` : ''}\n${shortCommand(p.cmdline, p.comm, 40)}`)}, penwidth=2];`,
    );
    tree(p, '        ');
    out.push('      }');
  });
  out.push('    }');
  const eth = s.network.interfaces.find((i) => i.peer);
  if (eth?.peer) {
    out.push(
      `    veth [label=${q(`${eth.peer.name} (host)${eth.peer.master ? `\nbridge ${eth.peer.master}` : ''}\n<-> ${eth.name} ${eth.addresses[0] ?? ''}`)}, shape=ellipse, color="#7a4cc2"];`,
    );
  }
  s.network.ports.forEach((p, i) => {
    out.push(
      `    port${i} [label=${q(`${p.hostIP || '0.0.0.0'}:${p.hostPort} -> ${p.container}:${p.containerPort}/${p.protocol}${p.dnat ? '' : '\n(no DNAT rule)'}`)}, shape=cds, color="#7a4cc2"];`,
    );
  });
  if (s.cgroupTree) {
    const t = s.cgroupTree;
    out.push(`    cg_pod [label=${q(cgroupLabel(`${t.path} (pod)`, t))}, style=filled, fillcolor="#e9f7ea", color="#2e8b3a"];`);
    t.children.forEach((c, i) => {
      out.push(
        `    cg${i} [label=${q(cgroupLabel(c.name, c))}, style=filled, fillcolor="#e9f7ea", color="#2e8b3a"];`,
        `    cg_pod -> cg${i} [color="#2e8b3a"];`,
      );
      const m = s.members.find((x) => x.name === c.name && x.process);
      if (m) out.push(`    p${m.process!.pid} -> cg${i} [style=dotted, arrowhead=none, color="#2e8b3a"];`);
    });
  }
  out.push('  }');
  if (s.differences.length) {
    out.push(
      `  differences [shape=note, color="#b00020", label=${q(["minipod's record and the kernel disagree:", ...s.differences.map((d) => `${d.subject}: ${d.what}: recorded ${d.recorded}; kernel ${d.kernel}`)].join('\n'))}];`,
    );
  }
  out.push('}', '');
  return out.join('\n');
}
