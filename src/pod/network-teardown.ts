/**
 * Which of a pod's network attachments its teardown undoes now and which it leaves to the
 * daemon, to finish after the client has its answer (CNI DEL is ~100 ms of plugin processes
 * that nothing the user waits on needs). Pure: the facts are read by teardown.ts.
 */

/**
 * The ids a pod's network may be recorded under: its uid (each instance its own, so the DEL of
 * one still pending never collides with the ADD of the next pod of the same name: host-local
 * refuses a container ID it holds, portmap and firewall key their rules by it) and its name
 * (what pods started before the uid was the id used).
 */
export function podNetworkIds(name: string, uid: string | undefined): string[] {
  return uid && uid !== name ? [uid, name] : [name];
}

export interface NetworkTeardownFacts {
  ids: string[];
  /** Ids with a CNI attachment recorded (a network state file). */
  attached: string[];
  /** Ids holding host port reservations. */
  withPorts: string[];
  /** Ids whose teardown the daemon is finishing already. */
  pending: string[];
  /** Whether the caller can finish the DEL after answering (the daemon can, `gc` and the CLI cannot). */
  canDefer: boolean;
}

export interface NetworkTeardownPlan {
  /** Torn down before the teardown goes on. */
  now: string[];
  /** Handed to the daemon: the netns is held open for the DEL, the record stays until it ends. */
  background: string[];
}

/**
 * A pod with hostPorts is torn down at once: once `rm -f` or `run` returned, its ports must be
 * free for the next pod (its DNAT rules and its reservation go with the DEL).
 */
export function planNetworkTeardown(f: NetworkTeardownFacts): NetworkTeardownPlan {
  const plan: NetworkTeardownPlan = { now: [], background: [] };
  for (const id of f.ids) {
    if (f.pending.includes(id)) continue;
    const attached = f.attached.includes(id);
    const ports = f.withPorts.includes(id);
    if (!attached && !ports) continue;
    if (f.canDefer && attached && !ports) plan.background.push(id);
    else plan.now.push(id);
  }
  return plan;
}

/** A pod's DEL the daemon finishes in the background (src/daemon/network-jobs.ts). */
export interface DeferredNetworkTeardown {
  podId: string;
  /** The pod's name, for the daemon's log. */
  pod: string;
  /** Runs the DEL; problems go to `warn` (the daemon's log: the pod's client is gone). */
  run(warn: (message: string) => void): Promise<void>;
}

export interface NetworkDeferral {
  pending(podId: string): boolean;
  add(job: DeferredNetworkTeardown): void;
}
