import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { minipodPaths } from '../../../src/paths.js';
import { checkHostPorts, setupPodNetwork } from '../../../src/network/index.js';
import { container, pod } from './fixtures.js';

describe('setupPodNetwork without root', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-netunit-'));
  const paths = minipodPaths({
    MINIPOD_RUN_DIR: path.join(tmp, 'run'),
    MINIPOD_LIB_DIR: path.join(tmp, 'lib'),
    MINIPOD_CNI_CONF_DIR: path.join(tmp, 'cni'),
    MINIPOD_CNI_PATH: path.join(tmp, 'no-plugins'),
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('bridge mode without the plugins says what to install, after writing the editable default config', async () => {
    await expect(setupPodNetwork({ pod: pod(), podId: 'p1', netnsPath: '/proc/self/ns/net', paths })).rejects.toThrow(
      /CNI plugins bridge, portmap, firewall .* not found in .*no-plugins: install them with `apt-get install containernetworking-plugins`/,
    );
    const conf = JSON.parse(fs.readFileSync(path.join(tmp, 'cni', 'minipod.conflist'), 'utf8'));
    expect(conf.plugins[0].ipam.dataDir).toBe(path.join(tmp, 'lib', 'cni', 'networks'));
    expect(fs.existsSync(path.join(tmp, 'run', 'network', 'ports.json'))).toBe(false);
  });

  it('hostNetwork needs no plugins and reserves its ports', async () => {
    const p = pod({ hostNetwork: true, containers: [container('a', [{ containerPort: 18999, protocol: 'TCP' }])] });
    const s = await setupPodNetwork({ pod: p, podId: 'host1', paths });
    expect(s.mode).toBe('host');
    expect(s.ports.map((x) => x.hostPort)).toEqual([18999]);
    await expect(checkHostPorts(p, paths)).rejects.toThrow(
      'spec.containers[0].ports[0].containerPort: host port 0.0.0.0:18999/TCP is already used by pod web',
    );
    await expect(checkHostPorts(p, paths, 'host1')).resolves.toBeUndefined();
  });
});
