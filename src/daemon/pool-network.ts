/**
 * The warm pool's default network (./warm-pool.ts, src/network/pooled.ts): attach runs CNI ADD
 * for a booted sandbox while the daemon is idle; release hands an unclaimed sandbox's DEL to the
 * daemon's background network jobs (./network-jobs.ts), holding its netns before its init dies.
 */
import { randomBytes } from 'node:crypto';
import { errorLine } from '../errors.js';
import { attachPooledNetwork, holdPodNetns, teardownPodNetwork } from '../network/index.js';
import type { MinipodPaths } from '../paths.js';
import type { NetworkJobs } from './network-jobs.js';
import type { PoolNetwork } from './warm-pool.js';

export function poolNetwork(paths: MinipodPaths, jobs: NetworkJobs, log: (message: string) => void): PoolNetwork {
  return {
    attach: async (initPid) => {
      const id = `pool-${randomBytes(6).toString('hex')}`;
      try {
        await attachPooledNetwork({ id, netnsPath: `/proc/${initPid}/ns/net`, paths, warn: (m) => log(`warm pool network: ${m}`) });
        return id;
      } catch (err) {
        // The sandbox serves without it: its pod runs ADD itself.
        log(`warm pool: cannot attach the default network: ${errorLine(err)}`);
        return undefined;
      }
    },
    release: (id) => {
      const held = holdPodNetns(paths, id);
      jobs.add({
        podId: id,
        pod: 'warm-pool',
        run: (warn) => teardownPodNetwork({ podId: id, netnsPath: held?.path, paths, warn, keepHost: true }).finally(() => held?.release()),
      });
    },
  };
}
