// Persistent volumes of a microVM: each local volume is an ext4 image on the node, attached as a drive and
// mounted by the guest init by its UUID. Shared volumes cannot be drives (no virtio-fs in Firecracker).
import type { InstanceSpec } from '../driver.ts';

/** The instance's local volumes as drives (image + UUID); a shared volume cannot be one (no virtio-fs). */
export function volumeDrives(spec: InstanceSpec): Array<{ image: string; fsUuid: string; mount: string }> {
  return (spec.volumes ?? []).map((v) => {
    if (v.kind !== 'local' || !v.image || !v.fsUuid)
      throw new Error(
        `volume ${v.name}: a microVM takes local volumes as block devices only, not a ${v.kind} path`,
      );
    return { image: v.image, fsUuid: v.fsUuid, mount: v.mount };
  });
}
