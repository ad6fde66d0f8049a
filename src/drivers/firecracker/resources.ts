// CPU and memory sizing for Firecracker microVMs.
//
// Firecracker only knows whole vCPUs (vcpu_count, an integer 1..32). A fractional CPU request such
// as "250m" or 1.5 therefore becomes ceil(cpu) vCPUs for the guest, and the fraction is enforced on
// the host through the cgroup v2 `cpu.max` quota that the jailer writes: the guest sees 1 vCPU but
// the Firecracker process gets 25 ms of CPU per 100 ms period.

export const MAX_VCPUS = 32; // MachineConfiguration.vcpu_count maximum in the v1.16.1 spec
export const DEFAULT_CPU_PERIOD_US = 100_000;

export class SizingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SizingError';
  }
}

/** Parses "250m", "1.5", "2" or a number of CPUs into millicores (an integer > 0). */
export function parseCpuMillis(cpu: string | number): number {
  const text = String(cpu).trim();
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (!match) throw new SizingError(`cpu must look like "250m", "0.5" or "2", got "${text}"`);
  const millis = match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
  if (!Number.isInteger(millis)) throw new SizingError(`cpu "${text}" is finer than a millicore`);
  if (millis <= 0) throw new SizingError(`cpu must be more than zero, got "${text}"`);
  return millis;
}

/** Whole vCPUs for the guest: fractional CPU rounds up (250m -> 1, 1500m -> 2). */
export function vcpuCountFor(millis: number): number {
  const count = Math.ceil(millis / 1000);
  if (count > MAX_VCPUS) {
    throw new SizingError(`${millis}m needs ${count} vCPUs; Firecracker allows at most ${MAX_VCPUS}`);
  }
  return count;
}

/** The cgroup v2 cpu.max value ("<quota> <period>") for a CPU limit, e.g. 250m -> "25000 100000". */
export function cpuMaxValue(millis: number, periodUs = DEFAULT_CPU_PERIOD_US): string {
  const quota = Math.ceil((millis * periodUs) / 1000);
  if (quota < 1000) throw new SizingError(`cpu.max quota ${quota}us is below the kernel minimum of 1000us`);
  return `${quota} ${periodUs}`;
}

/** Guest memory in MiB; must be a positive integer. */
export function checkMemoryMib(memoryMib: number): number {
  if (!Number.isInteger(memoryMib) || memoryMib <= 0) {
    throw new SizingError(`memory must be a positive whole number of MiB, got ${memoryMib}`);
  }
  return memoryMib;
}
