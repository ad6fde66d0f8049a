import type { Descriptor, ImageIndex, Platform } from './types.ts';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export const DEFAULT_PLATFORM: PlatformSpec = { os: 'linux', architecture: 'amd64' };

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

/** Canonical architecture/variant (x86_64 → amd64, aarch64 → arm64, arm64 variant v8 implied). */
export function normalizePlatform(platform: PlatformSpec): PlatformSpec {
  const architecture =
    ARCH_ALIASES[platform.architecture.toLowerCase()] ?? platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase() || undefined;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (platform.architecture.toLowerCase() === 'armhf' && !variant) variant = 'v7';
  if (platform.architecture.toLowerCase() === 'armel' && !variant) variant = 'v6';
  const out: PlatformSpec = { os: platform.os.toLowerCase(), architecture };
  if (variant) out.variant = variant;
  return out;
}

/** Parses `os/arch[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`. */
export function parsePlatform(text: string): PlatformSpec {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new Error(`invalid platform ${JSON.stringify(text)}: expected os/architecture[/variant]`);
  }
  return normalizePlatform({ os: parts[0], architecture: parts[1], variant: parts[2] });
}

export function formatPlatform(platform: PlatformSpec): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

function matches(candidate: Platform, wanted: PlatformSpec): boolean {
  const c = normalizePlatform(candidate);
  if (c.os !== wanted.os || c.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || c.variant === wanted.variant;
}

/** Attestation manifests (buildkit) and other non-image entries carry platform unknown/unknown. */
function isImageEntry(descriptor: Descriptor): boolean {
  if (descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return false;
  return descriptor.platform?.os !== 'unknown';
}

/**
 * Picks the manifest for a platform from an index / manifest list.
 * An exact variant match is preferred; without a requested variant the entry without variant
 * (or the first one listed) wins. Throws a clear error listing what is available.
 */
export function selectPlatformManifest(
  index: ImageIndex,
  platform: PlatformSpec = DEFAULT_PLATFORM,
): Descriptor {
  const wanted = normalizePlatform(platform);
  const candidates = (index.manifests ?? []).filter((d) => d.platform && isImageEntry(d));
  const hits = candidates.filter((d) => matches(d.platform as Platform, wanted));
  if (hits.length === 0) {
    const available = candidates.map((d) => formatPlatform(normalizePlatform(d.platform as Platform)));
    throw new Error(
      `no manifest for platform ${formatPlatform(wanted)} in index (available: ${available.join(', ') || 'none'})`,
    );
  }
  if (wanted.variant === undefined) {
    const plain = hits.find((d) => normalizePlatform(d.platform as Platform).variant === undefined);
    if (plain) return plain;
  }
  return hits[0];
}
