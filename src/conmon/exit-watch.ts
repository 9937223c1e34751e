/**
 * Hearing that a container exited: conmon writes `<exitDir>/<id>` (its exit status) and then
 * exits itself. The daemon watches the directory with inotify (fs.watch) and, as a safety net
 * for a missed event or a conmon killed before it could write, checks every few seconds. The
 * same check finds an exit that happened while no daemon ran: a new daemon adopting the pod
 * reads the file at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, type ProcessRef } from '../state/pod-state.js';
import { parseExitFile } from './args.js';

/** The exit file's status (null: exited, status unknown), or undefined while it is not written. */
export function readExitFile(exitDir: string, id: string): number | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(exitDir, id), 'utf8');
  } catch {
    return undefined;
  }
  return parseExitFile(text);
}

/**
 * Where a held container is: exited (with its status, null when conmon died without writing
 * one: kubelet's ContainerStatusUnknown) or still running (undefined).
 */
export function heldExitStatus(exitDir: string, id: string, conmon: ProcessRef): number | null | undefined {
  const status = readExitFile(exitDir, id);
  if (status !== undefined) return status;
  if (isAlive(conmon)) return undefined;
  // conmon writes the file before it exits: read once more, then it is lost for good.
  return readExitFile(exitDir, id) ?? null;
}

/** Calls onExit once, when the container exited; returns a function that stops watching. */
export function watchExit(
  exitDir: string,
  id: string,
  conmon: ProcessRef,
  onExit: (status: number | null) => void,
  pollMs = 2000,
): () => void {
  let done = false;
  let watcher: fs.FSWatcher | undefined;
  const stop = (): void => {
    done = true;
    watcher?.close();
    clearInterval(timer);
  };
  const check = (): void => {
    if (done) return;
    const status = heldExitStatus(exitDir, id, conmon);
    if (status === undefined) return;
    stop();
    onExit(status);
  };
  try {
    watcher = fs.watch(exitDir, (_event, name) => {
      if (name === id) check();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No inotify for it: the poll alone.
  }
  const timer = setInterval(check, pollMs);
  timer.unref?.();
  // Written before the watch began (or while no daemon ran).
  setImmediate(check);
  return stop;
}
