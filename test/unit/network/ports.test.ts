import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkHostBindings, findPortConflict, publishedPorts, type PortReservation } from '../../../src/network/ports.js';
import { container, pod } from './fixtures.js';

const web = pod({
  containers: [
    container('nginx', [
      { containerPort: 80, hostPort: 18080, protocol: 'TCP' },
      { containerPort: 9000, protocol: 'TCP' },
    ]),
    container('dns', [{ containerPort: 53, hostPort: 18053, hostIP: '127.0.0.1', protocol: 'UDP' }]),
  ],
});

describe('publishedPorts', () => {
  it('lists only ports with a hostPort, with their field path', () => {
    expect(publishedPorts(web)).toEqual([
      {
        containerName: 'nginx',
        containerPort: 80,
        hostPort: 18080,
        hostIP: '',
        protocol: 'TCP',
        field: 'spec.containers[0].ports[0].hostPort',
      },
      {
        containerName: 'dns',
        containerPort: 53,
        hostPort: 18053,
        hostIP: '127.0.0.1',
        protocol: 'UDP',
        field: 'spec.containers[1].ports[0].hostPort',
      },
    ]);
  });

  it('with hostNetwork every containerPort is a host port', () => {
    const p = publishedPorts({ ...web, hostNetwork: true });
    expect(p.map((x) => `${x.hostPort} ${x.field}`)).toEqual([
      '18080 spec.containers[0].ports[0].hostPort',
      '9000 spec.containers[0].ports[1].containerPort',
      '18053 spec.containers[1].ports[0].hostPort',
    ]);
  });
});

describe('findPortConflict', () => {
  const wanted = publishedPorts(web);
  const other = (o: Partial<PortReservation>): PortReservation => ({
    podId: 'other',
    podName: 'blog',
    containerName: 'c',
    containerPort: 80,
    hostPort: 18080,
    hostIP: '',
    protocol: 'TCP',
    field: 'spec.containers[0].ports[0].hostPort',
    ...o,
  });

  it('refuses a port another pod holds, naming the field and the pod', () => {
    const e = findPortConflict('web', 'bridge', wanted, [other({})]);
    expect(e?.message).toBe('spec.containers[0].ports[0].hostPort: host port 0.0.0.0:18080/TCP is already used by pod blog');
    expect(e?.code).toBe('network.port-conflict');
  });

  it('allows the same port on another protocol, another hostIP, or held by the pod itself', () => {
    expect(findPortConflict('web', 'bridge', wanted, [other({ protocol: 'UDP' })])).toBeUndefined();
    expect(findPortConflict('web', 'bridge', wanted, [other({ podId: 'web' })])).toBeUndefined();
    expect(findPortConflict('web', 'bridge', wanted, [other({ hostPort: 18053, protocol: 'UDP', hostIP: '127.0.0.2' })])).toBeUndefined();
    expect(findPortConflict('web', 'bridge', wanted, [other({ hostPort: 18053, protocol: 'UDP', hostIP: '' })])?.message).toMatch(
      /^spec.containers\[1\].ports\[0\].hostPort: host port 127.0.0.1:18053\/UDP/,
    );
  });

  it('refuses a duplicate inside the pod', () => {
    const dup = pod({
      containers: [
        container('a', [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }]),
        container('b', [{ containerPort: 81, hostPort: 8080, protocol: 'TCP' }]),
      ],
    });
    expect(findPortConflict('x', 'bridge', publishedPorts(dup), [])?.message).toBe(
      'spec.containers[1].ports[0].hostPort: 0.0.0.0:8080/TCP is already published by spec.containers[0].ports[0].hostPort',
    );
  });

  it('refuses hostPorts with network none', () => {
    expect(findPortConflict('web', 'none', wanted, [])?.message).toMatch(/cannot publish a port with `minipod.io\/network: none`/);
  });
});

describe('checkHostBindings', () => {
  it('refuses a port a host program listens on', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const p = {
        containerName: 'a',
        containerPort: 80,
        hostPort: port,
        hostIP: '',
        protocol: 'TCP' as const,
        field: 'spec.containers[0].ports[0].hostPort',
      };
      await expect(checkHostBindings([p])).rejects.toThrow(
        `spec.containers[0].ports[0].hostPort: host port 0.0.0.0:${port}/TCP is already in use on the host`,
      );
      await expect(checkHostBindings([{ ...p, protocol: 'UDP' }])).resolves.toBeUndefined();
      await expect(checkHostBindings([{ ...p, hostIP: '192.0.2.250' }])).rejects.toThrow(
        'hostIP 192.0.2.250 is not an address of this host',
      );
    } finally {
      srv.close();
    }
  });
});
