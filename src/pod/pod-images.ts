/**
 * Resolving every container's image at once (init, sidecar and app containers), each error
 * naming the container's own field (`spec.initContainers[1].image`).
 */
import type { ResolvedImage } from '../images/types.js';
import type { PodSpec } from '../manifest/types.js';
import type { ContainerKind } from './container-runner.js';
import type { PodHost } from './host.js';

export function resolvePodImages(
  host: PodHost,
  spec: PodSpec,
  containers: readonly {
    kind: ContainerKind;
    spec: { image: string; imagePullPolicy?: PodSpec['containers'][number]['imagePullPolicy'] };
  }[],
  pinOwner: string | undefined,
): Promise<ResolvedImage[]> {
  return Promise.all(
    containers.map((r, i) => {
      // Init containers and sidecars come first, in spec.initContainers' order.
      const list = r.kind === 'app' ? 'containers' : 'initContainers';
      const index = r.kind === 'app' ? i - spec.initContainers.length : i;
      return host.resolveImage(r.spec.image, {
        manifestDir: spec.manifestDir,
        fieldPath: `spec.${list}[${index}].image`,
        pullPolicy: r.spec.imagePullPolicy,
        pinOwner,
        pullSecrets: spec.pullSecrets,
      });
    }),
  );
}
