import type { ZfsCapabilities } from '../../src/domain/storage/pool-plan.ts';

/** What zfs-fuse 0.7 (pool version 23, the lab's ZFS) supports, as zfs-inventory.sh reports it. */
export const zfsFuseCaps: ZfsCapabilities = {
  implementation: 'zfs-fuse',
  poolVersion: 23,
  draid: false,
  compression: ['on', 'off', 'lzjb', 'gzip', 'zle'],
  xattrSa: false,
  parsableList: false,
  jsonStatus: false,
  cacheNeedsBlockDevice: true,
};
