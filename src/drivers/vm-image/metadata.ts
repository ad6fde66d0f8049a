// The metadata drive of one instance: a tar with grim-meta/ that the guest init reads at boot. It
// carries what must not go on the kernel command line (secrets in `environment`, an env file: see env-file.ts) and the instance identity.
import { envFile } from '../env-file.ts';
import { renderAppDefinition, type AppDefinition } from './app-definition.ts';
import { writeUstar, type UstarEntry } from './ustar.ts';

export interface GuestNetwork {
  address: string;
  prefixLength: number;
  gateway: string;
  dns?: string[];
}

export interface InstanceMetadata {
  hostname: string;
  env: Record<string, string>;
  network?: GuestNetwork;
  /** Overrides /grim/app of the root disk (tarball apps on a shared runtime disk). */
  app?: AppDefinition;
  /** Volume drives the guest init mounts: the ext4 UUID of each drive and where it goes. */
  volumes?: Array<{ fsUuid: string; mount: string }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MOUNT = /^\/[A-Za-z0-9._/-]+$/;

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function buildMetadataTar(meta: InstanceMetadata): Buffer {
  if (!HOSTNAME.test(meta.hostname)) throw new Error(`hostname "${meta.hostname}" is not a valid host name`);
  const entries: UstarEntry[] = [
    { name: 'grim-meta', type: 'dir' },
    { name: 'grim-meta/hostname', type: 'file', content: `${meta.hostname}\n` },
    { name: 'grim-meta/environment', type: 'file', content: `${envFile(meta.env)}\n` },
  ];
  const net = meta.network;
  if (net !== undefined) {
    entries.push(
      {
        name: 'grim-meta/network',
        type: 'file',
        content: `ADDRESS=${net.address}/${net.prefixLength}\nGATEWAY=${net.gateway}\nIFACE=eth0\n`,
      },
      {
        name: 'grim-meta/hosts',
        type: 'file',
        content: `127.0.0.1\tlocalhost\n${net.address}\t${meta.hostname}\n`,
      },
    );
    if (net.dns !== undefined && net.dns.length > 0) {
      entries.push({
        name: 'grim-meta/resolv.conf',
        type: 'file',
        content: net.dns.map((d) => `nameserver ${d}\n`).join(''),
      });
    }
  }
  if (meta.volumes !== undefined && meta.volumes.length > 0) {
    for (const v of meta.volumes)
      if (!UUID.test(v.fsUuid) || !MOUNT.test(v.mount) || v.mount.split('/').includes('..'))
        throw new Error(`volume drive ${JSON.stringify(v)} has a bad UUID or mount path`);
    entries.push({
      name: 'grim-meta/volumes',
      type: 'file',
      content: meta.volumes.map((v) => `${v.fsUuid} ${v.mount}\n`).join(''),
    });
  }
  if (meta.app !== undefined) {
    entries.push({ name: 'grim-meta/app', type: 'file', content: renderAppDefinition(meta.app) });
  }
  return writeUstar(entries);
}
