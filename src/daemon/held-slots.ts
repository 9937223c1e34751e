/**
 * The warm pool's pooled conmons on the real host (src/pod/held-pool.ts): conmon and
 * bin/minipod-oci as a held container's start uses them. MINIPOD_CONMON_POOL=0 turns them off
 * (a sandbox then has neither helpers nor conmons, and each container starts a fresh conmon).
 */
import fs from 'node:fs';
import { conmonBinary } from '../conmon/spawn.js';
import { ociRuntimeBinary } from '../pod/held-container.js';
import { discardPooledHeld, pooledReady, prioritizePooledHeld, spawnPooledHeld } from '../pod/held-pool.js';
import type { MinipodPaths } from '../paths.js';
import { WARM_CONTAINER_HELPERS, type HeldSlots } from './warm-pool.js';

export function pooledHeldSlots(
  paths: MinipodPaths,
  env: NodeJS.ProcessEnv = process.env,
): { slots: HeldSlots; count: number } | undefined {
  if (env.MINIPOD_CONMON_POOL === '0') return undefined;
  const rt = { paths, runtime: ociRuntimeBinary(env), conmon: conmonBinary(env) };
  // Without conmon every pooled entry would fail at once, again and again: none then.
  if (!fs.existsSync(rt.conmon)) return undefined;
  return {
    count: WARM_CONTAINER_HELPERS,
    slots: {
      spawn: (initPid) => spawnPooledHeld(rt, initPid),
      ready: (entry) => pooledReady(entry),
      discard: (entry) => discardPooledHeld(paths, entry),
      prioritize: (entry) => prioritizePooledHeld(entry),
    },
  };
}
