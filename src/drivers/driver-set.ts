/**
 * The runtime drivers grim knows, by kind. The `script` and `container` drivers are built in (both kept running
 * by the same node-side supervisor); the microVM drivers need the VM network and guest kernels. The rollout
 * engine and the reconciler only ever talk to a RuntimeDriver from the registry they were given.
 */
import type { RuntimeDriver, RuntimeKind } from './driver.ts';
import { createSupervisedContainerDriver } from './container/supervised.ts';
import { createFirecrackerDriver } from './firecracker/driver.ts';
import { createSupervisedQemuDriver } from './qemu/supervised.ts';
import { createScriptDriver } from './script/script-driver.ts';
import type { GuestKernelSpec } from './vm-image/kernel.ts';
import type { VmNetworkOptions } from './vm-image/network.ts';
import type { RuntimeImage } from './vm-image/pipeline.ts';
import { RegistryClient } from '../oci/registry-client.ts';

/** The drivers one AppService uses, by kind: a set, not an OCI registry (injected, so tests can hand the engine a fake driver). */
export class DriverSet {
  private readonly drivers = new Map<RuntimeKind, RuntimeDriver>();

  constructor(drivers: Iterable<RuntimeDriver> = []) {
    for (const d of drivers) this.register(d);
  }

  register(driver: RuntimeDriver): void {
    this.drivers.set(driver.kind, driver);
  }

  /** The driver for a kind, or an error that says which kinds are available. */
  get(kind: RuntimeKind): RuntimeDriver {
    const d = this.drivers.get(kind);
    if (!d)
      throw new Error(
        `no runtime driver "${kind}" is registered (available: ${[...this.drivers.keys()].join(', ') || 'none'})`,
      );
    return d;
  }

  has(kind: RuntimeKind): boolean {
    return this.drivers.has(kind);
  }

  kinds(): RuntimeKind[] {
    return [...this.drivers.keys()];
  }
}

/** The built-in drivers: `script` and `container`, both kept running by the same node-side supervisor. */
export function builtinDrivers(): RuntimeDriver[] {
  return [createScriptDriver(), createSupervisedContainerDriver()];
}

export interface MicrovmSetup {
  network: VmNetworkOptions;
  /** Guest kernel on the nodes for qemu-microvm (a bzImage + modules works); unset: the driver is unavailable. */
  qemuKernel?: GuestKernelSpec;
  /** Guest vmlinux with virtio built in for Firecracker; unset: the driver is unavailable. */
  firecrackerKernel?: GuestKernelSpec;
  accel?: 'auto' | 'kvm' | 'tcg';
  runtimes?: Record<string, RuntimeImage>;
  registry?: RegistryClient;
}

/** A driver that reports itself unavailable (and refuses to create) until a guest kernel is configured. */
function needsKernel(
  driver: RuntimeDriver,
  kernel: GuestKernelSpec | undefined,
  hint: string,
): RuntimeDriver {
  if (kernel !== undefined) return driver;
  const reason = `no guest kernel is configured for ${driver.kind} (${hint})`;
  return {
    ...driver,
    async fingerprint(ctx) {
      const f = await driver.fingerprint(ctx);
      return f.available ? { ...f, available: false, reason } : f;
    },
    create: () => Promise.reject(new Error(reason)),
  };
}

const NO_KERNEL: GuestKernelSpec = { name: 'unconfigured', image: '/nonexistent' };

/** qemu-microvm (supervised like script/container apps) and firecracker, with grim's VM networking. */
export function microvmDrivers(s: MicrovmSetup): RuntimeDriver[] {
  const registry = s.registry ?? new RegistryClient();
  const common = { registry, network: s.network, runtimes: s.runtimes };
  const qemu = createSupervisedQemuDriver({ ...common, kernel: s.qemuKernel ?? NO_KERNEL, accel: s.accel });
  const fc = createFirecrackerDriver({ ...common, kernel: s.firecrackerKernel ?? NO_KERNEL });
  return [
    needsKernel(qemu, s.qemuKernel, 'set GRIM_VM_KERNEL'),
    needsKernel(fc, s.firecrackerKernel, 'set GRIM_FC_KERNEL'),
  ];
}
