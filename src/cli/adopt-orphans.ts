/**
 * Before a verb that looks at pods: pods whose daemon died but whose containers conmon holds
 * are adopted by the next daemon, started here. Costs a look at each pod's state when nothing
 * is orphaned.
 */
import { connectDaemon } from '../daemon/client.js';
import { minipodPaths } from '../paths.js';
import { isAlive, isTerminalPhase, listPodNames, readPodState } from '../state/pod-state.js';

export async function adoptOrphans(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const paths = minipodPaths();
  const orphaned = listPodNames(paths).some((name) => {
    const state = readPodState(paths, name);
    return state?.monitor === 'conmon' && !isTerminalPhase(state.phase) && !isAlive(state.supervisor);
  });
  if (!orphaned) return;
  // The daemon adopts before it listens: once connected, the pods are its own.
  const socket = await connectDaemon(paths, true);
  socket?.destroy();
}
