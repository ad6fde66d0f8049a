// The API client runs a whole microVM lifecycle (the boot plan, then Ctrl-Alt-Del) against a spec-checking
// Firecracker double: every request must be spec-valid, in order, and the double must reject bad ones.
// (On nodes, scripts/node/vm-fc-run.sh sends the same plan: see firecracker-node-scripts.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FirecrackerApiClient, FirecrackerApiError } from '../../src/drivers/firecracker/api-client.ts';
import { bootPlan, type MicroVmBootSpec } from '../../src/drivers/firecracker/boot-plan.ts';
import { readMetricsFile } from '../../src/drivers/firecracker/metrics.ts';
import type { ApiRequest } from '../../src/drivers/firecracker/api-types.ts';
import { FirecrackerDouble } from '../helpers/firecracker-double.ts';
import { loadSharedSpec, type OpenApiDocument } from '../helpers/openapi-validator.ts';

const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');
const skip = typeof loaded === 'string' ? loaded : false;
if (skip) console.log(`# skipping Firecracker lifecycle tests: ${skip}`);
const spec = loaded as OpenApiDocument;

function vmSpec(metricsPath?: string): MicroVmBootSpec {
  return {
    instanceId: 'inst-7f3a',
    size: { cpu: '1500m', memoryMib: 256 },
    kernel: { path: '/vmlinux' },
    rootfs: { path: '/rootfs.ext4' },
    dataDrive: { path: '/data.ext4' },
    metadataDrive: { path: '/metadata.img' },
    network: {
      hostDevName: 'fc0123456789',
      guestIp: { address: '10.20.0.7', prefixLength: 24, gateway: '10.20.0.1' },
    },
    mmds: { data: { latest: { 'meta-data': { 'instance-id': 'inst-7f3a' } } } },
    metricsPath,
  };
}

/** What vm-fc-run.sh does on the node, through the client: every request of the plan, in order. */
async function boot(client: FirecrackerApiClient, plan: readonly ApiRequest[]): Promise<string> {
  for (const request of plan) await client.send(request);
  return (await client.describeInstance()).state;
}

async function withDouble(
  options: { ctrlAltDelExits?: boolean },
  body: (double: FirecrackerDouble, client: FirecrackerApiClient) => Promise<void>,
): Promise<void> {
  const double = await FirecrackerDouble.start(spec, options);
  try {
    await body(double, new FirecrackerApiClient(double.socketPath, { timeoutMs: 5000 }));
  } finally {
    await double.close();
  }
}

test('boot plan then graceful stop: every request spec-valid and in order', { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'grim-fc-metrics-'));
  const metricsPath = path.join(dir, 'metrics.ndjson');
  await writeFile(metricsPath, '');
  try {
    await withDouble({}, async (double, client) => {
      const plan = bootPlan(vmSpec(metricsPath));
      assert.equal(await boot(client, plan), 'Running');
      // Sent again (a stale plan against a running VM), the pre-boot requests are refused by state.
      await assert.rejects(client.send(plan[1]), /after starting the microVM/);

      const config = await client.getVmConfig();
      assert.equal(config['machine-config']?.vcpu_count, 2);
      assert.equal(config.drives?.filter((d) => d.is_root_device).length, 1);
      assert.match(
        config['boot-source']?.boot_args ?? '',
        /ip=10\.20\.0\.7::10\.20\.0\.1:255\.255\.255\.0::eth0:off/,
      );

      await client.flushMetrics();
      await client.sendCtrlAltDel();
      assert.equal(await double.waitForExit(5000), true, 'the guest rebooted: the VMM exited');

      const sent = double.requests.map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(sent, [
        'PUT /metrics',
        'PUT /machine-config',
        'PUT /boot-source',
        'PUT /drives/rootfs',
        'PUT /drives/data',
        'PUT /drives/metadata',
        'PUT /network-interfaces/eth0',
        'PUT /mmds/config',
        'PUT /mmds',
        'PUT /actions',
        'GET /',
        'PUT /machine-config',
        'GET /vm/config',
        'PUT /actions',
        'PUT /actions',
      ]);
      assert.deepEqual(double.invalidRequests(), []);
      assert.deepEqual(
        double.requests.filter((r) => r.status >= 300).map((r) => r.path),
        ['/machine-config'],
        'only the refused re-configuration failed',
      );
      assert.deepEqual(
        double.requests.flatMap((r) => r.responseIssues),
        [],
      );
      const actions = double.requests
        .filter((r) => r.path === '/actions')
        .map((r) => (r.body as { action_type: string }).action_type);
      assert.deepEqual(actions, ['InstanceStart', 'FlushMetrics', 'SendCtrlAltDel']);
    });
    const { samples } = await readMetricsFile(metricsPath);
    assert.equal(samples.length, 1);
    assert.ok('net_eth0' in samples[0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'the double enforces VM state: no reconfiguration after start, no start without kernel',
  { skip },
  async () => {
    await withDouble({}, async (double, client) => {
      await assert.rejects(client.instanceStart(), (err: FirecrackerApiError) => {
        assert.equal(err.status, 400);
        assert.match(err.faultMessage, /without kernel configuration/);
        return true;
      });
      await assert.rejects(client.sendCtrlAltDel(), /before starting/);
      await client.putBootSource({ kernelImagePath: '/vmlinux', bootArgs: 'console=ttyS0' });
      await client.instanceStart();
      await assert.rejects(client.putMachineConfig({ cpu: 1, memoryMib: 128 }), /after starting the microVM/);
      await assert.rejects(client.instanceStart(), /after starting the microVM/);
      assert.deepEqual(double.invalidRequests(), []); // all spec-valid: rejected by state, not by schema
    });
  },
);

test('the double rejects spec-invalid requests, so the validator can fail', { skip }, async () => {
  await withDouble({}, async (double, client) => {
    const bad: Array<{ at: string; request: ApiRequest }> = [
      {
        at: 'body.vcpu_count',
        request: { method: 'PUT', path: '/machine-config', body: { vcpu_count: 1.5, mem_size_mib: 128 } },
      },
      {
        at: 'body.vcpu_count',
        request: { method: 'PUT', path: '/machine-config', body: { vcpu_count: 64, mem_size_mib: 128 } },
      },
      {
        at: 'body.vcpu_count',
        request: { method: 'PUT', path: '/machine-config', body: { mem_size_mib: 128 } },
      },
      {
        at: 'body.kernel_image_path',
        request: { method: 'PUT', path: '/boot-source', body: { boot_args: 'x' } },
      },
      {
        at: 'body.is_root_device',
        request: {
          method: 'PUT',
          path: '/drives/rootfs',
          body: { drive_id: 'rootfs', is_root_device: 'yes', path_on_host: '/r', is_read_only: false },
        },
      },
      {
        at: 'body.action_type',
        request: { method: 'PUT', path: '/actions', body: { action_type: 'Reboot' } },
      },
      { at: 'body', request: { method: 'PUT', path: '/actions' } },
      {
        at: 'body.emit_id',
        request: { method: 'PUT', path: '/metrics', body: { metrics_path: '/m', emit_id: true } },
      },
      {
        at: 'body.ipv4_address',
        request: {
          method: 'PUT',
          path: '/mmds/config',
          body: { network_interfaces: ['eth0'], ipv4_address: '10.0.0.1' },
        },
      },
      { at: 'path', request: { method: 'PUT', path: '/no-such-thing', body: {} } },
      { at: 'path', request: { method: 'PUT', path: '/', body: {} } },
    ];
    for (const { at, request } of bad) {
      await assert.rejects(
        client.send(request),
        (err: FirecrackerApiError) => err.status === 400,
        `${request.path} ${JSON.stringify(request.body)}`,
      );
      const recorded = double.requests.at(-1);
      assert.deepEqual(
        recorded?.specIssues.map((i) => i.at),
        [at],
        `${request.path} ${JSON.stringify(request.body)}`,
      );
    }
    assert.equal(double.invalidRequests().length, bad.length);
    assert.ok(double.requests.every((r) => r.fault !== undefined && r.fault.length > 0));
    const mismatch = {
      method: 'PUT' as const,
      path: '/drives/rootfs',
      body: { drive_id: 'other', is_root_device: true, path_on_host: '/r', is_read_only: false },
    };
    await assert.rejects(client.send(mismatch), /does not match the id from the body/);
  });
});

test('client reports a missing socket clearly', async () => {
  const client = new FirecrackerApiClient(path.join(tmpdir(), 'grim-no-such-dir', 'fc.sock'));
  await assert.rejects(client.describeInstance(), /is not accepting connections \(ENOENT\)/);
});
