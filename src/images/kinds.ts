/**
 * The table of image kinds. `image:` is classified in two steps:
 * 1. by prefix, for the transports podman spells explicitly (`oci:`, `oci-archive:`,
 *    `docker-archive:`, `docker://`);
 * 2. otherwise as a path (relative to the manifest's folder): a directory, or a file whose
 *    content (magic bytes, not its name) says what it is;
 * 3. a string that is no existing path but parses as a registry reference (`nginx`,
 *    `docker.io/library/nginx:1.25`, `localhost:5000/app@sha256:...`) is a registry image.
 * Issue 8 adds resolvers to this table; the rest of minipod only calls resolveImage().
 */
import type { ResolveContext, ResolvedImage } from './types.js';

export interface PrefixKind {
  prefix: string;
  name: string;
  resolve(ctx: ResolveContext, rest: string): Promise<ResolvedImage>;
}

function notYet(what: string): PrefixKind['resolve'] {
  return async (ctx) => {
    throw ctx.fail(`${ctx.image}: ${what} are not supported yet; use a rootfs directory or tarball`, 'image.unsupported');
  };
}

export const PREFIX_KINDS: readonly PrefixKind[] = [
  { prefix: 'oci:', name: 'oci-layout', resolve: notYet('OCI image layouts (oci:PATH[:TAG])') },
  { prefix: 'oci-archive:', name: 'oci-archive', resolve: notYet('OCI archives (oci-archive:FILE[:TAG])') },
  { prefix: 'docker-archive:', name: 'docker-archive', resolve: notYet('docker archives (docker-archive:FILE)') },
  { prefix: 'docker://', name: 'registry', resolve: notYet('registry images') },
];

export function prefixKind(image: string): { kind: PrefixKind; rest: string } | null {
  for (const kind of PREFIX_KINDS) {
    if (image.startsWith(kind.prefix)) return { kind, rest: image.slice(kind.prefix.length) };
  }
  return null;
}

// The distribution reference grammar (github.com/distribution/reference), simplified to ASCII.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

/** True when `image` could be a registry reference (and so may mean one when no such path exists). */
export function looksLikeRegistryRef(image: string): boolean {
  if (image.startsWith('/') || image.startsWith('.') || /\.(tar|tgz|tar\.gz)$/.test(image)) return false;
  return image.length <= 255 && REFERENCE.test(image);
}
