/**
 * Image volumes (`volumes[].image`): an image's files mounted read-only, as kubelet does since
 * Kubernetes 1.31. The image is resolved like a container's (the same kinds, store and pull
 * policy), pinned for the pod, and its layers are stacked on the host as a read-only overlay
 * under the pod's volumes folder, so every container binds the same view (and subPath works).
 * One layer needs no overlay: it is bound as it is (overlayfs wants two lower dirs when it has
 * no upper one). The plan makes each bind read-only, nosuid, nodev and noexec; the layers
 * themselves are never written.
 */
import fs from 'node:fs';
import { MS } from '../../native-bindings/constants.js';
import { resolveImage } from '../images/index.js';
import type { PodSpec } from '../manifest/types.js';
import { type MinipodPaths, podVolumeDir } from '../paths.js';
import type { Syscall } from '../syscall/syscall.js';

export interface PreparedImageVolume {
  /** What containers bind: the overlay mount point, or the single layer. */
  hostPath: string;
  /** The resolved image (`sha256:…`, `dir:…`): `rmi` and `image prune` must keep it. */
  imageId: string;
}

export interface ImageVolumeContext {
  paths: MinipodPaths;
  sys: Syscall;
  /** The pod's volumes folder (removed, and unmounted below, at teardown). */
  volumesDir: string;
  /** Pin owner, as for the containers' images (the daemon pins per pod). */
  pinOwner?: string;
}

/** The mount that stacks an image's layers (topmost first), read-only. */
export function imageVolumeMount(
  layers: string[],
  target: string,
): { source: string; target: string; fstype: string; flags: number; data: string } {
  return { source: 'overlay', target, fstype: 'overlay', flags: MS.RDONLY | MS.NOSUID | MS.NODEV, data: `lowerdir=${layers.join(':')}` };
}

export async function prepareImageVolumes(ctx: ImageVolumeContext, pod: PodSpec): Promise<Record<string, PreparedImageVolume>> {
  const out: Record<string, PreparedImageVolume> = {};
  const wanted = pod.volumes.map((v, i) => ({ v, i })).filter(({ v }) => v.source.kind === 'image');
  const resolved = await Promise.all(
    wanted.map(({ v, i }) => {
      const source = v.source as { kind: 'image'; reference: string; pullPolicy?: 'Always' | 'IfNotPresent' | 'Never' };
      return resolveImage(source.reference, {
        manifestDir: pod.manifestDir,
        paths: ctx.paths,
        fieldPath: `spec.volumes[${i}].image.reference`,
        pullPolicy: source.pullPolicy,
        pinOwner: ctx.pinOwner,
      });
    }),
  );
  wanted.forEach(({ v }, k) => {
    const image = resolved[k]!;
    if (image.layers.length === 1) {
      out[v.name] = { hostPath: image.layers[0]!, imageId: image.id };
      return;
    }
    const target = podVolumeDir(ctx.volumesDir, v.name);
    fs.mkdirSync(target, { recursive: true, mode: 0o755 });
    if (image.layers.length === 0) {
      out[v.name] = { hostPath: target, imageId: image.id }; // An image without files: an empty folder.
      return;
    }
    const m = imageVolumeMount(image.layers, target);
    ctx.sys.mount(m.source, m.target, m.fstype, m.flags, m.data);
    out[v.name] = { hostPath: target, imageId: image.id };
  });
  return out;
}
