/**
 * Where minipod's record and the kernel disagree (pure): a process recorded running that is
 * gone, a container whose cgroup holds another pid than recorded, a limit that is not what the
 * pod's spec planned (someone wrote the cgroup file by hand), a namespace not shared the way the
 * spec says, an address or a published port the kernel does not have.
 */
import type { Difference, ExplainSnapshot, Member, NamespaceType } from './snapshot.js';
import { formatBytes, formatCpuQuota, formatLimit } from './format.js';

/** What the pod's spec asked for, per member name ('' is the pod's own cgroup). */
export interface Expected {
  limits: Map<string, { memoryMaxBytes?: number; cpuQuotaUs?: number; pidsMax?: number }>;
  /** Namespaces every container must share with the init (from the spec). */
  sharedWithInit: NamespaceType[];
  /** Namespaces that must be the host's (hostNetwork: net and uts). */
  hostOwned: NamespaceType[];
  /** The pod's recorded address (bridge mode). */
  ip?: string;
}

function limitDiffs(
  subject: string,
  m: Pick<Member, 'cgroup'>,
  want: Expected['limits'] extends Map<string, infer V> ? V : never,
): Difference[] {
  const out: Difference[] = [];
  const have = m.cgroup?.limits;
  if (!have) return out;
  if (want.memoryMaxBytes !== undefined && have.memoryMaxBytes !== undefined && have.memoryMaxBytes !== want.memoryMaxBytes) {
    out.push({
      subject,
      what: 'memory limit',
      recorded: formatBytes(want.memoryMaxBytes),
      kernel: formatLimit(have.memoryMaxBytes, formatBytes),
    });
  }
  if (want.cpuQuotaUs !== undefined && have.cpuQuotaUs !== undefined && have.cpuQuotaUs !== want.cpuQuotaUs) {
    out.push({
      subject,
      what: 'cpu quota',
      recorded: formatCpuQuota(want.cpuQuotaUs, have.cpuPeriodUs),
      kernel: formatCpuQuota(have.cpuQuotaUs, have.cpuPeriodUs),
    });
  }
  if (want.pidsMax !== undefined && have.pidsMax !== undefined && have.pidsMax !== want.pidsMax) {
    out.push({ subject, what: 'pids limit', recorded: String(want.pidsMax), kernel: formatLimit(have.pidsMax, String) });
  }
  return out;
}

export function findDifferences(
  snap: Omit<ExplainSnapshot, 'differences'>,
  expected: Expected | undefined,
  extra: Difference[] = [],
): Difference[] {
  const out: Difference[] = [...extra];
  const init = snap.members.find((m) => m.kind === 'init');
  for (const m of snap.members) {
    const rec = m.recorded;
    if (rec.state === 'running' && !m.process) {
      out.push({ subject: m.name, what: 'process', recorded: `running as pid ${rec.pid ?? '?'}`, kernel: 'no such process: it is gone' });
    }
    if (rec.state !== 'running' && m.process) {
      out.push({
        subject: m.name,
        what: 'process',
        recorded: rec.state,
        kernel: `pid ${m.process.pid} (${m.process.comm}) runs in its cgroup`,
      });
    }
    if (rec.state === 'running' && m.process && rec.pid !== undefined && rec.pid !== m.process.pid) {
      out.push({ subject: m.name, what: 'pid', recorded: String(rec.pid), kernel: `${m.process.pid} (${m.process.comm}) in its cgroup` });
    }
    if (!m.process) continue;
    const want = expected?.limits.get(m.kind === 'init' ? 'init' : m.name);
    if (want) out.push(...limitDiffs(m.name, m, want));
    if (!expected || m.kind === 'init' || !init?.process) continue;
    for (const type of expected.sharedWithInit) {
      const mine = m.process.namespaces[type];
      const pods = init.process.namespaces[type];
      if (mine !== undefined && pods !== undefined && mine !== pods) {
        out.push({ subject: m.name, what: `${type} namespace`, recorded: `the pod's (${pods})`, kernel: `its own (${mine})` });
      }
    }
  }
  if (expected && init?.process) {
    for (const type of expected.hostOwned) {
      const have = init.process.namespaces[type];
      if (have !== undefined && snap.hostNamespaces[type] !== undefined && have !== snap.hostNamespaces[type]) {
        out.push({
          subject: 'pod',
          what: `${type} namespace`,
          recorded: `the host's (${snap.hostNamespaces[type]})`,
          kernel: `its own (${have})`,
        });
      }
    }
  }
  const podWant = expected?.limits.get('');
  if (podWant && snap.cgroupTree) out.push(...limitDiffs('pod', { cgroup: snap.cgroupTree }, podWant));
  if (expected?.ip && init?.process && !snap.network.error) {
    if (snap.network.ip !== expected.ip) {
      out.push({ subject: 'pod', what: 'ip', recorded: expected.ip, kernel: snap.network.ip ?? 'no IPv4 address' });
    }
    for (const p of snap.network.ports) {
      if (!p.dnat) {
        out.push({
          subject: p.container,
          what: 'port',
          recorded: `${p.hostIP || '0.0.0.0'}:${p.hostPort} -> ${p.containerPort}/${p.protocol}`,
          kernel: 'no DNAT rule in the nat table',
        });
      }
    }
  }
  return out;
}
