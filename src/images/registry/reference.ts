/**
 * Registry references, normalised as Docker and podman do (github.com/distribution/reference):
 * `nginx` -> `docker.io/library/nginx:latest`, `localhost:5000/app@sha256:...` stays on
 * localhost:5000. The first component is a registry host when it has a `.` or a `:` or is
 * `localhost`.
 */
import { UserError } from '../../errors.js';

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API actually lives. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

export interface Reference {
  /** `docker.io`, `localhost:5000`, `127.0.0.1:5000`, `[::1]:5000`. */
  domain: string;
  /** `library/nginx`, `test/app`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** The full normalised name: `docker.io/library/nginx:1.25`, `host/app@sha256:...`. */
  name: string;
  /** True when neither tag nor digest was written (so `latest` was assumed). */
  implicitTag: boolean;
}

export function parseReference(input: string): Reference {
  const s = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (!looksLikeRegistryRef(s)) {
    throw new UserError(`${JSON.stringify(input)} is not a valid image reference`, { code: 'image.invalid' });
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let domain = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      domain = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository !== repository.toLowerCase()) {
    throw new UserError(`${JSON.stringify(input)}: repository names must be lowercase`, { code: 'image.invalid' });
  }
  const implicitTag = tag === undefined && digest === undefined;
  if (implicitTag) tag = 'latest';
  const name = `${domain}/${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return { domain, repository, tag, digest, name, implicitTag };
}

/** The host:port to talk to for `domain`. */
export function apiHost(domain: string): string {
  return domain === DOCKER_HUB ? DOCKER_HUB_API : domain;
}

/** Docker Hub's `library/` names shown the short way in `minipod images`. */
export function repositoryOf(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const slash = base.lastIndexOf('/');
  const colon = base.lastIndexOf(':');
  if (colon > slash) return { repository: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repository: base, tag: at >= 0 ? name.slice(at + 1, at + 20) : '<none>' };
}

// The distribution reference grammar (github.com/distribution/reference), simplified to ASCII.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

/** True when `image` could be a registry reference (and so may mean one when no such path exists). */
export function looksLikeRegistryRef(image: string): boolean {
  if (image.startsWith('/') || image.startsWith('.') || /\.(tar|tgz|tar\.gz)$/.test(image)) return false;
  return image.length <= 255 && REFERENCE.test(image);
}
