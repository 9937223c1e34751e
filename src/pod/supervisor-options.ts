/** What a pod supervisor is given (src/pod/supervisor.ts): the host's runtime objects and the daemon's choices. */
import type { ClaimedSandbox } from './warm-claim.js';
import type { CgroupManager } from '../cgroups/manager.js';
import type { CgroupMover } from '../cgroups/mover.js';
import type { PodSpec } from '../manifest/types.js';
import type { MinipodPaths } from '../paths.js';
import type { ContainerMonitor } from '../state/pod-state.js';
import type { Syscall } from '../syscall/syscall.js';
import type { SupervisorOutput } from './container-runner.js';
import type { BundleWriter } from './held-container.js';
import type { PodHost } from './host.js';
import type { NetworkDeferral } from './network-teardown.js';

export interface SupervisorOptions {
  paths: MinipodPaths;
  sys: Syscall;
  cgroups: CgroupManager;
  output: SupervisorOutput;
  /** Images, ports, CNI, helpers, signals, teardown; the real host unless a test fakes it. */
  host?: PodHost;
  manifestPath?: string;
  /**
   * Keep the pod's record (state, spec, logs) after it ends, for `ps -a`, `logs` and
   * `restart`, until `rm` (detached pods). Attached runs leave nothing, like `run --rm`.
   */
  keepRecord?: boolean;
  /** Moves helpers into cgroups early, off the event loop (the daemon keeps one for all pods); without one each helper joins by itself before its exec. */
  cgroupMover?: Pick<CgroupMover, 'move'>;
  /** Booted sandboxes to take the pod's helpers from (the daemon's warm pool). */
  warm?: { claim(spec: PodSpec): Promise<ClaimedSandbox | undefined> | ClaimedSandbox | undefined };
  /** Pin images for this pod rather than for this process (the daemon outlives its pods). */
  pinImagesPerPod?: boolean;
  /** Leave the host's bridge and chains up when the pod goes (the daemon removes them when it exits). */
  keepHostNetwork?: boolean;
  /** The daemon finishes the pod's CNI DEL after the pod's answer (network-teardown.ts). */
  deferNetwork?: NetworkDeferral;
  /** Where start-path steps go (the daemon sends them to the client); MINIPOD_TRACE's stderr by default. */
  trace?: (step: string) => void;
  /**
   * Who holds the containers: `conmon` (one per container, they outlive the daemon; needs a
   * host with `held`) or `daemon` (the default: the daemon is their parent).
   */
  monitor?: ContainerMonitor;
  /** Writes an OCI bundle from a container plan (src/oci): what the real host's conmon mode needs. */
  writeBundle?: BundleWriter;
  /** Container output goes to `output.line` (an attached run); detached pods only log it. */
  streamsLines?: boolean;
}
