import { describe, expect, it } from 'vitest';
import { buildPluginConfig, requirePlugins, validateConfList } from '../../../src/network/cni/conflist.js';
import { chooseSubnet, renderDefaultConfList } from '../../../src/network/default-config.js';
import { parseCidr, parseProcNetRoute } from '../../../src/network/routes.js';
import type { CniResult } from '../../../src/network/cni/types.js';

const result: CniResult = { cniVersion: '1.0.0', ips: [{ address: '10.89.0.2/24', gateway: '10.89.0.1', interface: 2 }] };

describe('default conflist', () => {
  const list = renderDefaultConfList({ subnet: '10.89.0.0/24', dataDir: '/var/lib/minipod/cni/networks' });

  it('chains bridge, portmap and firewall with host-local IPAM in our dataDir', () => {
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.name).toBe('minipod');
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall']);
    const bridge = list.plugins[0]!;
    expect(bridge).toMatchObject({ bridge: 'minipod0', isGateway: true, ipMasq: false, hairpinMode: true });
    expect(bridge.ipam).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: '10.89.0.0/24' }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: '/var/lib/minipod/cni/networks',
    });
    expect(list.plugins[1]).toEqual({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  });

  it('validates as a conflist', () => {
    expect(validateConfList(JSON.parse(JSON.stringify(list)), 'x')).toEqual(list);
  });
});

describe('validateConfList', () => {
  it('names the file and the problem', () => {
    expect(() => validateConfList({ cniVersion: '1.0.0', name: 'n', plugins: [] }, '/etc/x.conflist')).toThrow(
      '/etc/x.conflist: plugins must be a non-empty list',
    );
    expect(() => validateConfList({ cniVersion: '9.9.9', name: 'n', plugins: [{ type: 'bridge' }] }, 'f')).toThrow(
      /cniVersion "9.9.9" is not supported/,
    );
    expect(() => validateConfList({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: '../x' }] }, 'f')).toThrow(
      'plugins[0].type must be a plugin name',
    );
  });
});

describe('buildPluginConfig', () => {
  const list = renderDefaultConfList({ subnet: '10.89.0.0/24', dataDir: '/d' });
  const rc = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }] };

  it('gives runtimeConfig only to plugins with the capability', () => {
    const pm = buildPluginConfig(list, list.plugins[1]!, 'ADD', rc, result);
    expect(pm).toMatchObject({ name: 'minipod', cniVersion: '1.0.0', runtimeConfig: rc, prevResult: result });
    const br = buildPluginConfig(list, list.plugins[0]!, 'ADD', rc, undefined);
    expect(br.runtimeConfig).toBeUndefined();
    expect(br.prevResult).toBeUndefined();
  });

  it('passes the cached result to DEL from 0.4.0 on, not before', () => {
    expect(buildPluginConfig(list, list.plugins[2]!, 'DEL', undefined, result).prevResult).toEqual(result);
    const old = { ...list, cniVersion: '0.3.1' };
    expect(buildPluginConfig(old, old.plugins[2]!, 'DEL', undefined, result).prevResult).toBeUndefined();
  });
});

describe('requirePlugins', () => {
  it('says what to install', () => {
    const list = renderDefaultConfList({ subnet: '10.89.0.0/24', dataDir: '/d' });
    expect(() => requirePlugins(list, ['/nonexistent'], 'f.conflist')).toThrow(/apt-get install containernetworking-plugins/);
  });
});

describe('subnet choice', () => {
  const procRoute = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'wg0\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n');

  it('parses /proc/net/route', () => {
    const routes = parseProcNetRoute(procRoute);
    expect(routes).toHaveLength(3);
    expect(routes[1]).toEqual({ iface: 'eth0', ...parseCidr('192.0.2.0/24') });
    expect(routes[2]).toEqual({ iface: 'wg0', ...parseCidr('10.89.0.0/16') });
  });

  it('keeps 10.89.0.0/24 unless a host route covers it; ignores the default route and our bridge', () => {
    const routes = parseProcNetRoute(procRoute);
    expect(chooseSubnet(routes.slice(0, 2))).toBe('10.89.0.0/24');
    expect(chooseSubnet([{ iface: 'minipod0', ...parseCidr('10.89.0.0/24') }])).toBe('10.89.0.0/24');
    expect(chooseSubnet([{ iface: 'eth1', ...parseCidr('10.89.0.0/23') }])).toBe('10.89.2.0/24');
    expect(chooseSubnet(routes)).toBeUndefined();
  });
});
