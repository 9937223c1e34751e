/**
 * OCI whiteouts (image-spec layer.md) and how overlayfs spells them.
 *
 * In an OCI layer `DIR/.wh.NAME` deletes NAME of the layers below and `DIR/.wh..wh..opq` hides
 * everything DIR had below. overlayfs wants a char device 0/0 named NAME and the xattr
 * `trusted.overlay.opaque=y` on DIR instead. Rootfs tarballs use mode `keep` (the names are
 * plain files); OCI layers (issue 8) will use `overlay`.
 */
export type WhiteoutMode = 'keep' | 'overlay';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export type WhiteoutKind =
  | { kind: 'opaque' }
  | { kind: 'whiteout'; name: string }
  /** Other `.wh..wh.*` names are aufs bookkeeping (e.g. `.wh..wh.plnk`): dropped. */
  | { kind: 'meta' };

export function whiteoutKind(base: string): WhiteoutKind | null {
  if (!base.startsWith(WHITEOUT_PREFIX)) return null;
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  // `.wh.` alone, `.wh..` or `.wh...` would name the directory itself or its parent.
  if (name === '' || name === '.' || name === '..') return { kind: 'meta' };
  return { kind: 'whiteout', name };
}
