/**
 * How a helper gets into its cgroups, written once for the pod's init, pre-spawned container
 * helpers and restarted containers.
 *
 * Moving a process between cgroups waits for an RCU grace period (~5-15 ms on this kernel, much
 * more than the write itself). Done by each helper just before its exec, that wait sits on the
 * start path; so helpers that already run are moved from here, in the background (the daemon's
 * CgroupMover, one burst), while the pod's init and network come up. A helper that was not
 * moved (no mover, still booting, a restart, or a failed move) joins by itself: its plan lists
 * the cgroup.procs files it writes its pid into just before execve.
 *
 * Only booted helpers are moved: Node's start-up (~40 MB, ~10 threads) must not be charged to a
 * container's memory and pids limits.
 */
import type { CgroupManager } from '../cgroups/manager.js';
import type { CgroupMover } from '../cgroups/mover.js';
import type { Helper } from '../process/helper-client.js';

export interface EarlyMove {
  helper: Helper;
  /** The child cgroup of the pod (a container's name, or INIT_CGROUP). */
  cgroup: string;
}

export class CgroupJoins {
  /** Per helper pid: resolves true once the early move put it in its cgroups. */
  private readonly moved = new Map<number, Promise<boolean>>();

  constructor(
    private readonly pod: string,
    private readonly cgroups: CgroupManager,
    private readonly mover: Pick<CgroupMover, 'move'> | undefined,
    private readonly onMoved: () => void = () => {},
  ) {}

  /**
   * Moves the booted helpers among `moves` into their cgroups in one background burst, in the
   * order given (put those whose exec waits for the move first).
   */
  moveEarly(moves: EarlyMove[]): void {
    if (!this.mover) return;
    const booted = moves.filter((m) => m.helper.isBooted);
    if (booted.length === 0) return;
    const done = this.mover.move(booted.map((m) => ({ pid: m.helper.pid, files: this.cgroups.procsFiles(this.pod, m.cgroup) }))).then(
      () => {
        this.onMoved();
        return true;
      },
      () => false,
    );
    for (const m of booted) this.moved.set(m.helper.pid, done);
  }

  /**
   * The cgroup.procs files a container's helper must still write before its exec: none when
   * the early move took it there. A container must be in its cgroups before its program runs,
   * so this waits for the move.
   */
  async procsToJoin(helper: Helper, cgroup: string): Promise<string[]> {
    const move = this.moved.get(helper.pid);
    this.moved.delete(helper.pid);
    const inCgroups = move ? await move : false;
    return inCgroups ? [] : this.cgroups.procsFiles(this.pod, cgroup);
  }

  /**
   * The same for PID 1, which does not fork: its move may finish after its exec, in parallel
   * with it, so this does not wait. Call `afterPid1Exec` once it exec'd: a failed move is then
   * made up from here.
   */
  pid1ProcsToJoin(helper: Helper, cgroup: string): string[] {
    return this.moved.has(helper.pid) ? [] : this.cgroups.procsFiles(this.pod, cgroup);
  }

  afterPid1Exec(helper: Helper, cgroup: string, skip: () => boolean, warn: (message: string) => void): void {
    const move = this.moved.get(helper.pid);
    this.moved.delete(helper.pid);
    void move?.then((ok) => {
      if (ok || skip()) return;
      try {
        this.cgroups.addProcess(this.pod, cgroup, helper.pid);
      } catch (err) {
        warn(`the pod's init is not in its cgroup: ${(err as Error).message}`);
      }
    });
  }
}
