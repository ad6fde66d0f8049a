// Log shipping tails the file each instance's driver names (observe().logFile), not a path it guesses from the
// driver's kind: one expectation per built-in runtime, the file its node scripts really write (see
// vm-firecracker-driver.test.ts for Firecracker's console landing there), and a driver grim has never heard of.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DriverSet, builtinDrivers } from '../../src/drivers/driver-set.ts';
import type { InstanceHandle, RuntimeDriver } from '../../src/drivers/driver.ts';
import { createSupervisedQemuDriver } from '../../src/drivers/qemu/supervised.ts';
import { createFirecrackerDriver } from '../../src/drivers/firecracker/driver.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { instanceLogPath } from '../../src/services/logs/sources.ts';

const network = {
  ipam: { allocate: () => Promise.reject(new Error('unused')), release: () => Promise.resolve() },
};
const kernel = { name: 'k', image: '/vm/vmlinux' };
const drivers = new DriverSet([
  ...builtinDrivers(),
  createSupervisedQemuDriver({ registry: new RegistryClient(), kernel, network }),
  createFirecrackerDriver({ registry: new RegistryClient(), kernel, network, vmRoot: '/srv/vm' }),
]);
const handle = (driver: string, data: Record<string, unknown> = {}) =>
  JSON.stringify({ driver, instanceId: 'web-1-abc', node: 'n1', data } satisfies Omit<
    InstanceHandle,
    'driver'
  > & {
    driver: string;
  });

test('each runtime names the file its output lands in', () => {
  assert.equal(instanceLogPath(drivers, handle('script')), '/var/lib/grim/apps/web-1-abc/log');
  assert.equal(
    instanceLogPath(
      drivers,
      handle('container', { stateDir: '/var/lib/grim', instanceDir: '/var/lib/grim/containers/web-1-abc' }),
    ),
    '/var/lib/grim/containers/web-1-abc/output.log',
  );
  // a VM's app writes to the guest console (ttyS0), which lands in serial.log beside the VM's disks
  assert.equal(
    instanceLogPath(drivers, handle('qemu-microvm', { vmRoot: '/var/lib/grim/vm' })),
    '/var/lib/grim/vm/instances/web-1-abc/serial.log',
  );
  assert.equal(
    instanceLogPath(drivers, handle('firecracker', { dir: '/srv/vm/instances/web-1-abc' })),
    '/srv/vm/instances/web-1-abc/serial.log',
  );
});

test('the driver decides, whatever its kind; unknown drivers and broken handles give no file', () => {
  const own: Pick<RuntimeDriver, 'kind' | 'observe'> = {
    kind: 'script',
    observe: (h) => ({ cgroups: [], logFile: `/opt/elsewhere/${h.instanceId}.out` }),
  };
  const set = new DriverSet([own as RuntimeDriver]);
  assert.equal(instanceLogPath(set, handle('script')), '/opt/elsewhere/web-1-abc.out');
  assert.equal(instanceLogPath(set, handle('container')), null);
  assert.equal(instanceLogPath(set, '{not json'), null);
});
