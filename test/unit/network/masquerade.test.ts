import { describe, expect, it } from 'vitest';
import {
  MASQUERADE_CHAIN,
  firewallAddressesIn,
  parseIptablesSave,
  planAddressRemoval,
  planFullRemoval,
  planMasquerade,
} from '../../../src/network/iptables.js';
import { pluginsNeeded } from '../../../src/network/pod.js';
import type { CniConfList } from '../../../src/network/cni/types.js';

describe('planMasquerade', () => {
  it('masquerades what leaves the subnet with one chain', () => {
    expect(planMasquerade(['10.89.0.0/24'])).toEqual([
      '*nat',
      `:${MASQUERADE_CHAIN} - [0:0]`,
      `-A ${MASQUERADE_CHAIN} -d 10.89.0.0/24 -j ACCEPT`,
      `-A ${MASQUERADE_CHAIN} ! -d 224.0.0.0/4 -j MASQUERADE`,
      `-A POSTROUTING -s 10.89.0.0/24 -j ${MASQUERADE_CHAIN}`,
      'COMMIT',
    ]);
  });

  it('plans nothing when the chain and its jump are there (a daemon killed after setting them up)', () => {
    const save = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      `:${MASQUERADE_CHAIN} - [0:0]`,
      `-A POSTROUTING -s 10.89.0.0/24 -j ${MASQUERADE_CHAIN}`,
      `-A ${MASQUERADE_CHAIN} -d 10.89.0.0/24 -j ACCEPT`,
      `-A ${MASQUERADE_CHAIN} ! -d 224.0.0.0/4 -j MASQUERADE`,
      'COMMIT',
    ].join('\n');
    expect(planMasquerade(['10.89.0.0/24'], parseIptablesSave(save))).toEqual([]);
  });

  it('completes a half-made chain without declaring it again or doubling the jump', () => {
    const save = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      `:${MASQUERADE_CHAIN} - [0:0]`,
      `-A POSTROUTING -s 10.89.0.0/24 -j ${MASQUERADE_CHAIN}`,
      'COMMIT',
    ].join('\n');
    expect(planMasquerade(['10.89.0.0/24'], parseIptablesSave(save))).toEqual([
      '*nat',
      `-A ${MASQUERADE_CHAIN} -d 10.89.0.0/24 -j ACCEPT`,
      `-A ${MASQUERADE_CHAIN} ! -d 224.0.0.0/4 -j MASQUERADE`,
      'COMMIT',
    ]);
  });

  it('plans nothing without a subnet', () => {
    expect(planMasquerade([])).toEqual([]);
  });

  it('goes with the full removal of CNI chains when no pod is left', () => {
    const save = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      `:${MASQUERADE_CHAIN} - [0:0]`,
      `-A POSTROUTING -s 10.89.0.0/24 -j ${MASQUERADE_CHAIN}`,
      `-A ${MASQUERADE_CHAIN} -d 10.89.0.0/24 -j ACCEPT`,
      'COMMIT',
    ].join('\n');
    expect(planFullRemoval(parseIptablesSave(save))).toEqual([
      '*nat',
      `-D POSTROUTING -s 10.89.0.0/24 -j ${MASQUERADE_CHAIN}`,
      `-F ${MASQUERADE_CHAIN}`,
      `-X ${MASQUERADE_CHAIN}`,
      'COMMIT',
    ]);
  });
});

describe('pluginsNeeded', () => {
  const list: CniConfList = {
    cniVersion: '1.0.0',
    name: 'minipod',
    plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }, { type: 'firewall' }],
  };

  it('drops portmap for a pod without hostPorts', () => {
    expect(pluginsNeeded(list, {}).plugins.map((p) => p.type)).toEqual(['bridge', 'firewall']);
  });

  it('keeps portmap when the pod maps ports', () => {
    const rc = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] };
    expect(pluginsNeeded(list, rc).plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall']);
  });
});

describe('planFullRemoval with per-pod firewall rules', () => {
  it('keeps the chains while the firewall plugin still admits a pod (another run dir)', () => {
    const save = [
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      ':CNI-FORWARD - [0:0]',
      '-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
      '-A CNI-FORWARD -d 10.89.0.15/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A CNI-FORWARD -s 10.89.0.15/32 -j ACCEPT',
      'COMMIT',
    ].join('\n');
    expect(planFullRemoval(parseIptablesSave(save))).toEqual([]);
  });
});

describe("the firewall plugin's accept rules of a dead pod", () => {
  const save = [
    '*filter',
    ':FORWARD ACCEPT [0:0]',
    ':CNI-FORWARD - [0:0]',
    ':CNI-ADMIN - [0:0]',
    '-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
    '-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN',
    '-A CNI-FORWARD -d 10.89.0.3/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A CNI-FORWARD -s 10.89.0.3/32 -j ACCEPT',
    '-A CNI-FORWARD -d 10.89.0.31/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A CNI-FORWARD -s 10.88.0.4/32 -j ACCEPT',
    'COMMIT',
  ].join('\n');
  const tables = parseIptablesSave(save);

  it('removes exactly the rules of the address (not 10.89.0.31 for 10.89.0.3)', () => {
    expect(planAddressRemoval(tables, ['10.89.0.3'])).toEqual([
      '*filter',
      '-D CNI-FORWARD -d 10.89.0.3/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-D CNI-FORWARD -s 10.89.0.3/32 -j ACCEPT',
      'COMMIT',
    ]);
  });

  it('takes an address with its prefix length, as a CNI result gives it', () => {
    expect(planAddressRemoval(tables, ['10.88.0.4/16'])).toEqual(['*filter', '-D CNI-FORWARD -s 10.88.0.4/32 -j ACCEPT', 'COMMIT']);
  });

  it('plans nothing for an address without rules', () => {
    expect(planAddressRemoval(tables, ['10.89.0.9'])).toEqual([]);
  });

  it("finds the admitted addresses of our subnet only (another network's stay)", () => {
    expect(firewallAddressesIn(tables, ['10.89.0.0/24']).sort()).toEqual(['10.89.0.3', '10.89.0.31']);
  });

  it('lets the chains go once those rules are removed', () => {
    const left = parseIptablesSave(save.replace(/-A CNI-FORWARD -[ds] 10\.[^\n]*\n/g, ''));
    expect(planFullRemoval(left)).toContain('-X CNI-FORWARD');
  });
});
