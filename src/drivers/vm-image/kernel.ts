// The node's guest kernel catalog: vm-kernel-prepare.sh turns a kernel on the node into an
// uncompressed vmlinux plus an initramfs made from the node's own modules, with checksums.
import type { OpCtx } from '../driver.ts';
import { runJson, stageDir, uploadGuestScript } from './node-ops.ts';

export interface GuestKernelSpec {
  /** Catalog name, e.g. "6.1.0-56-amd64". */
  name: string;
  /** Kernel image on the node: a bzImage (e.g. /boot/vmlinuz-6.1.0-56-amd64) or an ELF vmlinux. */
  image: string;
  /** The node's modules for it (/lib/modules/<version>); omit for kernels with virtio/ext4 built in. */
  modulesDir?: string;
}

export interface PreparedKernel {
  name: string;
  vmlinux: string;
  initramfs: string | null;
  vmlinuxSha256: string;
  initramfsSha256: string | null;
  modules: number;
  rebuilt: boolean;
}

export async function prepareKernel(
  ctx: OpCtx,
  vmRoot: string,
  spec: GuestKernelSpec,
): Promise<PreparedKernel> {
  const dir = await stageDir(ctx, vmRoot, `kernel-${spec.name}`);
  const init = await uploadGuestScript(ctx, dir, 'initramfs-init');
  return runJson<PreparedKernel>(
    ctx,
    'vm-kernel-prepare',
    {
      KERNEL_NAME: spec.name,
      KERNEL_IMAGE: spec.image,
      INITRAMFS_INIT: init,
      MODULES_DIR: spec.modulesDir,
      VM_ROOT: vmRoot,
    },
    300_000,
  );
}

/**
 * Kernel arguments for grim guests. Timer calibration is skipped with values from the host clock:
 * under TCG, guests that calibrate while several start at once on few cores mark the TSC unstable and
 * hang. "reboot=k" + QEMU -no-reboot / Firecracker: the guest's reboot ends the VMM process.
 */
export function guestKernelArgs(opts: { tscKhz?: number; extra?: string } = {}): string {
  const args = ['console=ttyS0', 'reboot=k', 'panic=-1', 'quiet', 'pci=off', 'i8042.noaux', 'i8042.nomux'];
  if (opts.tscKhz !== undefined && opts.tscKhz > 0) {
    const khz = Math.round(opts.tscKhz);
    args.push(`tsc_early_khz=${khz}`, `lpj=${khz * 4}`, 'tsc=reliable');
  }
  if (opts.extra) args.push(opts.extra);
  return args.join(' ');
}
