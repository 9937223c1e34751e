/**
 * Cleaning up iptables behind the CNI plugins. DEL without a namespace leaves the bridge
 * plugin's masquerade chain (`CNI-<hash>`), and no DEL ever removes the shared chains
 * (CNI-HOSTPORT-*, CNI-FORWARD, CNI-ADMIN) or the jumps to them. We read `iptables-save`,
 * plan `-D`/`-F`/`-X` lines and apply them with `iptables-restore --noflush`, one table at a time.
 */
import { createHash } from 'node:crypto';
import { run, runOk } from './exec.js';
import { overlaps, parseCidr } from './routes.js';

export interface IptRule {
  chain: string;
  /** Everything after `-A CHAIN `, exactly as iptables-save printed it. */
  spec: string;
}

export interface IptTable {
  name: string;
  builtinChains: string[];
  chains: string[];
  rules: IptRule[];
}

export function parseIptablesSave(text: string): IptTable[] {
  const tables: IptTable[] = [];
  let cur: IptTable | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      cur = { name: line.slice(1).trim(), builtinChains: [], chains: [], rules: [] };
      tables.push(cur);
    } else if (!cur || line.startsWith('#')) {
      continue;
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (policy === '-') cur.chains.push(name!);
      else cur.builtinChains.push(name!);
    } else if (line.startsWith('-A ')) {
      const rest = line.slice(3);
      const sp = rest.indexOf(' ');
      cur.rules.push({ chain: sp < 0 ? rest : rest.slice(0, sp), spec: sp < 0 ? '' : rest.slice(sp + 1) });
    }
  }
  return tables;
}

/** Chain names the plugins derive from network name and container ID (libcni utils). */
export function cniChainName(network: string, containerId: string, prefix = ''): string {
  const hex = createHash('sha512')
    .update(network + containerId)
    .digest('hex');
  return `CNI-${prefix}${hex}`.slice(0, 28);
}

/** The comment the plugins put on per-container rules. */
export function cniComment(network: string, containerId: string): string {
  return `name: \\"${network}\\" id: \\"${containerId}\\"`;
}

function jumpTarget(spec: string): string | undefined {
  return /(?:^|\s)-[jg] (\S+)/.exec(spec)?.[1];
}

/**
 * restore-script lines removing the given chains (and every rule that jumps to them) and
 * every rule whose spec contains one of `comments`.
 */
export function planRemoval(table: IptTable, chains: Set<string>, comments: string[]): string[] {
  const owned = table.chains.filter((c) => chains.has(c));
  const dels: string[] = [];
  for (const r of table.rules) {
    if (owned.includes(r.chain)) continue; // goes with the flush
    const target = jumpTarget(r.spec);
    if ((target && chains.has(target)) || comments.some((c) => r.spec.includes(c))) dels.push(`-D ${r.chain} ${r.spec}`);
  }
  if (dels.length === 0 && owned.length === 0) return [];
  return [`*${table.name}`, ...dels, ...owned.map((c) => `-F ${c}`), ...owned.map((c) => `-X ${c}`), 'COMMIT'];
}

/** Lines removing one pod's leftovers (masquerade chain, portmap DNAT chain, commented rules). */
export function planPodRemoval(tables: IptTable[], network: string, containerId: string): string[] {
  const chains = new Set([cniChainName(network, containerId), cniChainName(network, containerId, 'DN-')]);
  const comments = [cniComment(network, containerId)];
  return tables.flatMap((t) => planRemoval(t, chains, comments));
}

/** Network names in per-container comments: tells whether another CNI user shares the chains. */
export function cniNetworksInUse(tables: IptTable[]): Set<string> {
  const names = new Set<string>();
  for (const t of tables) {
    for (const r of t.rules) {
      for (const m of r.spec.matchAll(/name: \\"([^"\\]+)\\" id: \\"/g)) names.add(m[1]!);
    }
  }
  return names;
}

/**
 * Whether the firewall plugin still lets some pod's address through (`-d`/`-s a.b.c.d/32` in
 * CNI-FORWARD): those rules carry no comment, and with masquerading done per network rather
 * than per pod they are what shows another user of the chains (another minipod run dir).
 */
export function firewallRulesInUse(tables: IptTable[]): boolean {
  return tables.some((t) => t.rules.some((r) => r.chain === 'CNI-FORWARD' && /(?:^|\s)-[ds] [0-9a-f.:]+\/(?:32|128)\s/.test(r.spec)));
}

/** Container IDs named in per-container rule comments of `network`. */
export function cniContainerIdsOf(tables: IptTable[], network: string): Set<string> {
  const escaped = network.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // iptables-save prints the comment's quotes escaped: name: \"minipod\" id: \"abc\"
  const re = new RegExp(`name: \\\\"${escaped}\\\\" id: \\\\"([^"\\\\]+)\\\\"`, 'g');
  const ids = new Set<string>();
  for (const t of tables) for (const r of t.rules) for (const m of r.spec.matchAll(re)) ids.add(m[1]!);
  return ids;
}

/**
 * Lines removing every CNI-* chain, when no minipod pod remains. If any per-container rule is
 * still there (another CNI user such as podman, or another minipod with its own run dir) the
 * shared chains are in use and stay.
 */
export function planFullRemoval(tables: IptTable[]): string[] {
  if (cniNetworksInUse(tables).size > 0 || firewallRulesInUse(tables)) return [];
  return tables.flatMap((t) => planRemoval(t, new Set(t.chains.filter((c) => c.startsWith('CNI-'))), []));
}

export type IpFamily = 'ipv4' | 'ipv6';

const SAVE: Record<IpFamily, string> = { ipv4: 'iptables-save', ipv6: 'ip6tables-save' };
const RESTORE: Record<IpFamily, string> = { ipv4: 'iptables-restore', ipv6: 'ip6tables-restore' };

export async function readTables(family: IpFamily): Promise<IptTable[]> {
  try {
    const r = await run(SAVE[family], [], { timeoutMs: 30_000 });
    return r.code === 0 ? parseIptablesSave(r.stdout) : [];
  } catch {
    return []; // iptables not installed: the plugins could not have made rules either
  }
}

export async function applyRestore(family: IpFamily, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await runOk(RESTORE[family], ['--noflush', '-w'], { input: `${lines.join('\n')}\n` });
}

/** minipod's one masquerade chain for the bridge subnets (removed with every CNI-* chain). */
export const MASQUERADE_CHAIN = 'CNI-MINIPOD-MASQ';

/**
 * restore-script lines giving pods on `subnets` outbound NAT with one chain for the whole
 * network, as the bridge plugin's ipMasq does with one chain per pod (8 iptables execs on
 * every ADD, more on DEL): same rules, made once when the network comes up. Planned against
 * the nat table as it is (`current`), so a chain left by a killed daemon is completed, never
 * doubled: appending blindly gave one more POSTROUTING jump per daemon start.
 */
export function planMasquerade(subnets: string[], current: IptTable[] = []): string[] {
  if (subnets.length === 0) return [];
  const nat = current.find((t) => t.name === 'nat');
  const has = (chain: string, spec: string): boolean => nat?.rules.some((r) => r.chain === chain && r.spec === spec) ?? false;
  const wanted: IptRule[] = [
    ...subnets.map((s) => ({ chain: MASQUERADE_CHAIN, spec: `-d ${s} -j ACCEPT` })),
    { chain: MASQUERADE_CHAIN, spec: '! -d 224.0.0.0/4 -j MASQUERADE' },
    ...subnets.map((s) => ({ chain: 'POSTROUTING', spec: `-s ${s} -j ${MASQUERADE_CHAIN}` })),
  ];
  const missing = wanted.filter((r) => !has(r.chain, r.spec));
  const chainExists = nat?.chains.includes(MASQUERADE_CHAIN) ?? false;
  if (missing.length === 0 && chainExists) return [];
  return ['*nat', ...(chainExists ? [] : [`:${MASQUERADE_CHAIN} - [0:0]`]), ...missing.map((r) => `-A ${r.chain} ${r.spec}`), 'COMMIT'];
}

/** The firewall plugin's chain for per-address accept rules. */
export const FIREWALL_CHAIN = 'CNI-FORWARD';

/**
 * Lines removing the firewall plugin's accept rules of `addresses` (`-d IP/32 ... -j ACCEPT`,
 * `-s IP/32 -j ACCEPT` in CNI-FORWARD). Its DEL finds them from prevResult only: a pod whose
 * ADD was cut short (no saved result) or whose DEL failed leaves them, and they carry no
 * comment, so we find them by the address its IPAM lease or saved result names.
 */
export function planAddressRemoval(tables: IptTable[], addresses: string[]): string[] {
  if (addresses.length === 0) return [];
  const cidrs = addresses.map((a) => (a.includes('/') ? a.split('/')[0]! : a)).map((ip) => `${ip}/${ip.includes(':') ? 128 : 32}`);
  const matches = (spec: string): boolean => {
    const words = spec.split(/\s+/);
    return words.some((w, i) => (w === '-d' || w === '-s') && cidrs.includes(words[i + 1] ?? ''));
  };
  return tables.flatMap((t) => {
    const dels = t.rules.filter((r) => r.chain === FIREWALL_CHAIN && matches(r.spec)).map((r) => `-D ${r.chain} ${r.spec}`);
    return dels.length === 0 ? [] : [`*${t.name}`, ...dels, 'COMMIT'];
  });
}

/** Addresses (`a.b.c.d`) the firewall plugin admits in CNI-FORWARD that lie in one of `subnets`. */
export function firewallAddressesIn(tables: IptTable[], subnets: string[]): string[] {
  const nets = subnets.map(parseCidr);
  const found = new Set<string>();
  for (const t of tables) {
    for (const r of t.rules) {
      if (r.chain !== FIREWALL_CHAIN) continue;
      const words = r.spec.split(/\s+/);
      words.forEach((w, i) => {
        const m = /^(\d+\.\d+\.\d+\.\d+)\/32$/.exec(words[i + 1] ?? '');
        if ((w === '-d' || w === '-s') && m && nets.some((n) => overlaps(parseCidr(`${m[1]}/32`), n))) found.add(m[1]!);
      });
    }
  }
  return [...found];
}
