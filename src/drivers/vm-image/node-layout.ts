// Names and paths grim uses on a node for microVMs (under VM_ROOT, default /var/lib/grim/vm).
import { createHash } from 'node:crypto';

export const DEFAULT_VM_ROOT = '/var/lib/grim/vm';

/**
 * The serial console of a microVM on its node: the kernel's, grim-init's and the app's output (the guest runs
 * with console=ttyS0; QEMU writes ttyS0 to this file, Firecracker to its stdout, which vm-fc-vmm.sh sends here).
 */
export function vmSerialLog(vmRoot: string, instanceId: string): string {
  return `${vmRoot}/instances/${instanceId}/serial.log`;
}

/** Cache key of an image's root disk: the manifest digest, e.g. "sha256-<64 hex>". */
export function imageKey(manifestDigest: string): string {
  const match = /^(sha256|sha512):([0-9a-f]{64,128})$/.exec(manifestDigest);
  if (!match) throw new Error(`not a content digest: ${manifestDigest}`);
  return `${match[1]}-${match[2]}`;
}

const SAFE = /[^a-z0-9._-]/g;

/** Cache key of a runtime's base disk, e.g. "runtime-alpine-3.20". */
export function runtimeKey(name: string, version: string): string {
  return `runtime-${name.toLowerCase().replace(SAFE, '-')}-${version.toLowerCase().replace(SAFE, '-')}`;
}

/** Cache key of a tarball app's drive: the tarball's sha256. */
export function appDriveKey(sha256Hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`not a sha256: ${sha256Hex}`);
  return `app-${sha256Hex}`;
}

/** TAP name for an instance: "gvt" + 10 hex digits (13 characters, under IFNAMSIZ). */
export function tapNameForInstance(instanceId: string): string {
  return `gvt${createHash('sha256').update(instanceId).digest('hex').slice(0, 10)}`;
}

/** A DNS label for the guest's hostname from the instance id. */
export function guestHostname(instanceId: string): string {
  const label = instanceId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return label || 'grim-vm';
}
