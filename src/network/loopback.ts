/**
 * Bringing `lo` up in the pod's namespace. The CNI `loopback` plugin does it when installed;
 * without plugins (mode none must work without them) `nsenter --net=PATH ip link set lo up`
 * from util-linux and iproute2 does the same.
 */
import type { MinipodPaths } from '../paths.js';
import { findPlugin } from './cni/conflist.js';
import { invokePlugin } from './cni/invoke.js';
import { runOk } from './exec.js';

export async function bringLoopbackUp(netnsPath: string, containerId: string, paths: MinipodPaths): Promise<void> {
  if (findPlugin('loopback', paths.cniPluginDirs)) {
    const conf = { cniVersion: '1.0.0', name: 'minipod-loopback', type: 'loopback' };
    await invokePlugin('loopback', 'ADD', conf, {
      containerId,
      netns: netnsPath,
      ifName: 'lo',
      pluginDirs: paths.cniPluginDirs,
      timeoutMs: 10_000,
    });
    return;
  }
  await runOk('nsenter', [`--net=${netnsPath}`, 'ip', 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000 });
}
