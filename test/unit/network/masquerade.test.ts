import { describe, expect, it } from 'vitest';
import { MASQUERADE_CHAIN, parseIptablesSave, planFullRemoval, planMasquerade } from '../../../src/network/iptables.js';
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
