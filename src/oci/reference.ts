/**
 * Image reference parsing, following the grammar of distribution/reference:
 *   [registry[:port]/]path-component[/path-component...][:tag][@algorithm:hex]
 * Docker Hub defaults: no registry means docker.io, single-component names get `library/`.
 */

export interface ImageReference {
  /** Registry as written in references: `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/alpine`. */
  repository: string;
  /** Tag; `latest` when neither tag nor digest was given. */
  tag?: string;
  /** Content digest (`sha256:<64 hex>`); when present it wins over the tag for fetching. */
  digest?: string;
}

export class ImageReferenceError extends Error {
  constructor(reference: string, reason: string) {
    super(`invalid image reference ${JSON.stringify(reference)}: ${reason}`);
    this.name = 'ImageReferenceError';
  }
}

export const DOCKER_HUB_REGISTRY = 'docker.io';
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const KNOWN_DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha512: 128 };

/** Validates a digest string; returns an error reason or undefined. */
export function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `malformed digest ${JSON.stringify(digest)}`;
  const [algorithm, hex] = digest.split(':', 2);
  const expected = KNOWN_DIGEST_LENGTHS[algorithm];
  if (expected === undefined) return `unsupported digest algorithm ${JSON.stringify(algorithm)}`;
  if (!/^[a-f0-9]+$/.test(hex) || hex.length !== expected) {
    return `${algorithm} digest must be ${expected} lowercase hex characters`;
  }
  return undefined;
}

function registryProblem(registry: string): string | undefined {
  let host = registry;
  let port: string | undefined;
  const ipv6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(registry);
  if (ipv6) {
    port = ipv6[2];
  } else {
    const colon = registry.lastIndexOf(':');
    if (colon >= 0) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
    if (host === '' || !host.split('.').every((label) => DOMAIN_LABEL.test(label))) {
      return `invalid registry host ${JSON.stringify(host)}`;
    }
  }
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port))
    return `invalid registry port ${JSON.stringify(port)}`;
  if (port !== undefined && Number(port) > 65535) return `registry port ${port} out of range`;
  return undefined;
}

/** True when the first path component names a registry (docker's rule: contains `.` or `:`, is `localhost`, or has uppercase). */
function looksLikeRegistry(component: string): boolean {
  return /[.:]/.test(component) || component === 'localhost' || component !== component.toLowerCase();
}

export function parseImageReference(reference: string): ImageReference {
  const fail = (reason: string): never => {
    throw new ImageReferenceError(reference, reason);
  };
  if (typeof reference !== 'string' || reference.trim() === '') fail('empty reference');
  if (reference !== reference.trim() || /\s/.test(reference)) fail('whitespace is not allowed');
  if (reference.startsWith('/') || reference.endsWith('/')) fail('leading or trailing "/"');
  if (reference.includes('//')) fail('empty path component');

  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) fail(problem);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const tagColon = rest.indexOf(':', lastSlash + 1);
  if (tagColon >= 0) {
    tag = rest.slice(tagColon + 1);
    rest = rest.slice(0, tagColon);
    if (!TAG.test(tag)) fail(`invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest === '') fail('missing repository name');

  const components = rest.split('/');
  let registry = DOCKER_HUB_REGISTRY;
  if (components.length > 1 && looksLikeRegistry(components[0])) {
    registry = components.shift() as string;
    const problem = registryProblem(registry);
    if (problem) fail(problem);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API_HOST) registry = DOCKER_HUB_REGISTRY;
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) {
      fail(
        `invalid repository path component ${JSON.stringify(component)} (lowercase letters, digits and single separators . _ __ - only)`,
      );
    }
  }
  if (registry === DOCKER_HUB_REGISTRY && components.length === 1) components.unshift('library');
  const repository = components.join('/');
  if (repository.length > MAX_NAME_LENGTH) fail(`repository name longer than ${MAX_NAME_LENGTH} characters`);

  const parsed: ImageReference = { registry, repository };
  if (tag !== undefined) parsed.tag = tag;
  if (digest !== undefined) parsed.digest = digest;
  if (tag === undefined && digest === undefined) parsed.tag = 'latest';
  return parsed;
}

/** The tag or digest to request from the registry (digest preferred). */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Canonical string form: `docker.io/library/alpine:3.20`, `127.0.0.1:5000/x/y@sha256:...`. */
export function formatImageReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** Host (and port) to contact for the registry API: docker.io is served from registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : registry;
}

/** Host name without port or IPv6 brackets. */
export function registryHostname(registry: string): string {
  const ipv6 = /^\[([^\]]+)\]/.exec(registry);
  if (ipv6) return ipv6[1];
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** localhost, 127.0.0.0/8 and ::1 — the only hosts plain http is allowed for without explicit opt-in. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registryHostname(registry).toLowerCase();
  return host === 'localhost' || /^127(?:\.[0-9]{1,3}){3}$/.test(host) || host === '::1';
}
