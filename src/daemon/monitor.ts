/**
 * Who holds a daemon's containers (docs/architecture.md, "Containers that outlive the daemon"):
 * read once when the daemon starts. Apart from main.ts so the tests can ask which mode the
 * daemons they start will use without loading the daemon.
 */
import fs from 'node:fs';
import { conmonBinary } from '../conmon/spawn.js';
import { UserError } from '../errors.js';
import type { ContainerMonitor } from '../state/pod-state.js';

/**
 * conmon holds containers, so they outlive the daemon (docs/architecture.md), unless
 * MINIPOD_CONTAINER_MONITOR=daemon or conmon is not installed.
 */
export const DEFAULT_MONITOR: ContainerMonitor = 'conmon';

/**
 * Who holds the containers, from MINIPOD_CONTAINER_MONITOR: `conmon` (containers outlive the
 * daemon; needs conmon installed) or `daemon` (the daemon is their parent). With nothing
 * asked, DEFAULT_MONITOR, or the daemon (with a warning) when that is conmon and it is missing.
 */
export function containerMonitor(env: NodeJS.ProcessEnv, log: (m: string) => void): ContainerMonitor {
  const asked = env.MINIPOD_CONTAINER_MONITOR;
  if (asked !== undefined && asked !== 'conmon' && asked !== 'daemon') {
    throw new UserError(`MINIPOD_CONTAINER_MONITOR: "${asked}" is neither conmon nor daemon`);
  }
  const wanted = asked ?? DEFAULT_MONITOR;
  if (wanted === 'conmon' && !fs.existsSync(conmonBinary(env))) {
    if (asked) throw new UserError(`MINIPOD_CONTAINER_MONITOR=conmon: ${conmonBinary(env)} is not installed (apt-get install conmon)`);
    log(`${conmonBinary(env)} is not installed: the daemon holds containers (they die with it)`);
    return 'daemon';
  }
  return wanted;
}
