import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootPlan, guestIpBootArg, type MicroVmBootSpec } from '../../src/drivers/firecracker/boot-plan.ts';
import {
  machineConfigRequest,
  networkInterfaceRequest,
  driveRequest,
} from '../../src/drivers/firecracker/requests.ts';
import { cpuMaxValue, parseCpuMillis, vcpuCountFor } from '../../src/drivers/firecracker/resources.ts';
import { macAddressForInstance } from '../../src/domain/ipam.ts';

const minimal: MicroVmBootSpec = {
  instanceId: 'i-1',
  size: { cpu: '250m', memoryMib: 128 },
  kernel: { path: '/vmlinux' },
  rootfs: { path: '/rootfs.ext4' },
};

test('fractional CPU rounds up to whole vCPUs; too many is refused', () => {
  assert.equal(parseCpuMillis('250m'), 250);
  assert.equal(parseCpuMillis(1.5), 1500);
  assert.equal(parseCpuMillis('2'), 2000);
  assert.equal(vcpuCountFor(250), 1);
  assert.equal(vcpuCountFor(1000), 1);
  assert.equal(vcpuCountFor(1001), 2);
  assert.throws(() => vcpuCountFor(32_001), /at most 32/);
  assert.throws(() => parseCpuMillis('0'), /more than zero/);
  assert.throws(() => parseCpuMillis('0.0001'), /finer than a millicore/);
  assert.throws(() => parseCpuMillis('two'), /cpu must look like/);
  assert.deepEqual(machineConfigRequest({ cpu: '2500m', memoryMib: 512 }).body, {
    vcpu_count: 3,
    mem_size_mib: 512,
    smt: false,
  });
  assert.throws(() => machineConfigRequest({ cpu: 1, memoryMib: 0.5 }), /whole number of MiB/);
});

test('cpu.max expresses the fraction as quota and period', () => {
  assert.equal(cpuMaxValue(250), '25000 100000');
  assert.equal(cpuMaxValue(1500), '150000 100000');
  assert.equal(cpuMaxValue(500, 50_000), '25000 50000');
  assert.throws(() => cpuMaxValue(5), /below the kernel minimum/);
});

test('minimal boot plan: machine-config, boot-source, rootfs, InstanceStart', () => {
  const plan = bootPlan(minimal);
  assert.deepEqual(
    plan.map((r) => `${r.method} ${r.path}`),
    ['PUT /machine-config', 'PUT /boot-source', 'PUT /drives/rootfs', 'PUT /actions'],
  );
  assert.deepEqual(plan[2].body, {
    drive_id: 'rootfs',
    path_on_host: '/rootfs.ext4',
    is_root_device: true,
    is_read_only: false,
  });
  assert.deepEqual(plan[3].body, { action_type: 'InstanceStart' });
  const boot = plan[1].body as { boot_args: string; initrd_path?: string };
  assert.match(boot.boot_args, /reboot=k/);
  assert.ok(!boot.boot_args.includes('ip='));
  assert.equal(boot.initrd_path, undefined);
});

test('full boot plan: drives, stable guest MAC, MMDS after the interface it uses', () => {
  const plan = bootPlan({
    ...minimal,
    kernel: { path: '/vmlinux', initrdPath: '/initrd', bootArgs: 'console=ttyS0' },
    dataDrive: { path: '/data.ext4', readOnly: true },
    metadataDrive: { path: '/metadata.img' },
    network: {
      hostDevName: 'tap7',
      guestIp: { address: '172.16.0.2', prefixLength: 30, gateway: '172.16.0.1' },
    },
    mmds: { data: { a: 1 }, ipv4Address: '169.254.170.2' },
  });
  const paths = plan.map((r) => r.path);
  assert.deepEqual(paths, [
    '/machine-config',
    '/boot-source',
    '/drives/rootfs',
    '/drives/data',
    '/drives/metadata',
    '/network-interfaces/eth0',
    '/mmds/config',
    '/mmds',
    '/actions',
  ]);
  const nic = plan[5].body as { guest_mac: string; host_dev_name: string };
  assert.equal(nic.guest_mac, macAddressForInstance('i-1'));
  assert.equal(nic.host_dev_name, 'tap7');
  assert.deepEqual(plan[6].body, {
    network_interfaces: ['eth0'],
    version: 'V2',
    ipv4_address: '169.254.170.2',
  });
  assert.equal((plan[4].body as { is_read_only: boolean }).is_read_only, true);
  assert.equal((plan[3].body as { is_read_only: boolean }).is_read_only, true);
  assert.deepEqual(plan[1].body, {
    kernel_image_path: '/vmlinux',
    boot_args: 'console=ttyS0 ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off',
    initrd_path: '/initrd',
  });
});

test('guest ip boot arg follows network-setup.md', () => {
  assert.equal(
    guestIpBootArg({ address: '172.16.0.2', prefixLength: 30, gateway: '172.16.0.1' }),
    'ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off',
  );
});

test('builders refuse ids and MACs Firecracker would refuse', () => {
  assert.throws(() => bootPlan({ ...minimal, mmds: { data: {} } }), /MMDS needs a network interface/);
  assert.throws(
    () => driveRequest({ driveId: 'root-fs', pathOnHost: '/r', isRootDevice: true, isReadOnly: false }),
    /letters, digits or underscores/,
  );
  assert.throws(
    () => networkInterfaceRequest({ ifaceId: 'eth0', hostDevName: 'tap0', guestMac: '02:00:00:00:00' }),
    /malformed/,
  );
});
