/**
 * Choosing one image of a manifest list / image index: linux and the host's architecture (in
 * Go's GOARCH spelling), the variant preferred when it matches, attestations skipped.
 */
import { UserError } from '../../errors.js';
import type { Descriptor, Platform } from './spec.js';

const NODE_TO_GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

export function hostPlatform(): Platform {
  const architecture = NODE_TO_GOARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') p.variant = `v${(process.config.variables as Record<string, unknown>).arm_version ?? '7'}`;
  return p;
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The best entry of an index for `want`, or a UserError listing what the index has. */
export function selectManifest(manifests: Descriptor[], want: Platform, what: string): Descriptor {
  const candidates = manifests.filter(
    (m) =>
      m.platform &&
      m.platform.os === want.os &&
      m.platform.architecture === want.architecture &&
      m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
  );
  const score = (m: Descriptor): number => {
    const v = m.platform?.variant;
    if (v === want.variant) return 2;
    if (v === undefined || v === '') return 1; // arm64 images often omit "v8"
    return 0;
  };
  const best = candidates.sort((a, b) => score(b) - score(a))[0];
  if (!best || (score(best) === 0 && want.architecture === 'arm')) {
    const has = [...new Set(manifests.map((m) => platformString(m.platform)))].join(', ') || 'no platforms';
    throw new UserError(`${what}: no image for ${platformString(want)} (the index has: ${has})`, { code: 'image.no-platform' });
  }
  return best;
}
