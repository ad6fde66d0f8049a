// The node side of a supervised firecracker instance, for real under dash and busybox sh: vm-fc-run.sh
// starts the VMM (here the Firecracker double as a process), sends the boot plan grim wrote through the
// API socket (every request checked against the v1.16.1 spec), waits, and cleans up after the VMM;
// vm-fc-stop.sh stops the guest with SendCtrlAltDel. Run again (as the supervisor does after a guest
// reboot), it boots the VM again without the control node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { bootPlan, type MicroVmBootSpec } from '../../src/drivers/firecracker/boot-plan.ts';
import { bootPlanFile, parseBootPlanFile } from '../../src/drivers/firecracker/boot-file.ts';
import { FcInstanceDir, type Shell } from '../helpers/fc-node-sim.ts';
import { loadSharedSpec } from '../helpers/openapi-validator.ts';

const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');
const noCurl = spawnSync('sh', ['-c', 'command -v curl']).status !== 0 ? 'curl is not installed' : false;
const skip = typeof loaded === 'string' ? loaded : noCurl;

const SHELLS: Shell[] = [
  ['dash', []],
  ['busybox', ['sh']],
];

function vmSpec(): MicroVmBootSpec {
  return {
    instanceId: 'fc-node-1',
    size: { cpu: '500m', memoryMib: 128 },
    kernel: { path: '/vmlinux', initrdPath: '/initrd' },
    rootfs: { path: '/rootfs.ext4' },
    dataDrive: { path: '/data.ext4' },
    metadataDrive: { path: '/metadata.img' },
    network: {
      hostDevName: 'gvt0123456789',
      guestIp: { address: '10.20.0.7', prefixLength: 24, gateway: '10.20.0.1' },
    },
    mmds: { data: { latest: { 'meta-data': { note: 'it\'s "quoted" \\ and $(not run)' } } } },
  };
}

test('boot-plan file: one request per line, parsed back exactly; GETs and odd paths refused', () => {
  const plan = bootPlan(vmSpec());
  assert.deepEqual(parseBootPlanFile(bootPlanFile(plan)), plan);
  assert.throws(() => bootPlanFile([{ method: 'GET', path: '/' }]), /only PUT and PATCH/);
  assert.throws(() => bootPlanFile([{ method: 'PUT', path: '/a b', body: {} }]), /not a plain path/);
  assert.throws(() => bootPlanFile([{ method: 'PUT', path: '/actions' }]), /no body/);
});

for (const shell of SHELLS) {
  const name = shell.join(' ');

  test(
    `vm-fc-run.sh (${name}): boots through the API, stops on Ctrl-Alt-Del, boots again on restart`,
    { skip },
    async (t) => {
      const plan = bootPlan(vmSpec());
      const vm = new FcInstanceDir(shell, bootPlanFile(plan));
      t.after(() => vm.dispose());
      const started = () =>
        vm.requests().filter((r) => (r.body as { action_type?: string })?.action_type === 'InstanceStart');

      vm.start();
      await vm.waitFor('InstanceStart', () => started().length === 1);
      const reqs = vm.requests();
      assert.deepEqual(
        reqs.map((r) => `${r.method} ${r.path}`),
        plan.map((r) => `${r.method} ${r.path}`),
        'the whole plan, in order',
      );
      assert.deepEqual(
        reqs.flatMap((r) => r.specIssues),
        [],
        'every request is valid per the spec',
      );
      assert.ok(
        reqs.every((r) => r.status >= 200 && r.status < 300),
        'every request was accepted',
      );
      const mmds = reqs.find((r) => r.path === '/mmds')?.body;
      assert.deepEqual(mmds, vmSpec().mmds?.data, 'bodies arrive byte for byte (quotes, backslashes, $())');

      assert.equal(await vm.stop(), 0);
      const ended = await vm.exit!;
      assert.equal(ended.code, 0, `vm-fc-run.sh ends with the VMM: ${ended.stderr}`);
      assert.ok(
        vm.requests().some((r) => (r.body as { action_type?: string })?.action_type === 'SendCtrlAltDel'),
        'stopped with SendCtrlAltDel',
      );
      assert.equal(vm.cleanups(), 1, 'cleanup.sh ran after the VMM exited');

      vm.start(); // what the supervisor does when the guest rebooted on its own
      await vm.waitFor('the second InstanceStart', () => started().length === 2);
      assert.deepEqual(
        vm.requests().flatMap((r) => r.specIssues),
        [],
      );
      process.kill(-vm.run!.pid!, 'SIGTERM'); // the supervisor ends the session
      const killed = await vm.exit!;
      assert.notEqual(killed.code, 0);
      assert.equal(vm.vmmPid(), null, 'the VMM is gone');
      assert.equal(vm.cleanups(), 2, 'cleanup ran after TERM too');
    },
  );

  test(
    `vm-fc-run.sh (${name}): a request the VMM refuses stops the VMM and says why`,
    { skip },
    async (t) => {
      const plan = bootPlan(vmSpec());
      // A machine-config Firecracker refuses (0 vCPUs), as an edited or stale plan might carry.
      plan[0] = { ...plan[0], body: { vcpu_count: 0, mem_size_mib: 128 } };
      const vm = new FcInstanceDir(shell, bootPlanFile(plan));
      t.after(() => vm.dispose());
      vm.start();
      const ended = await vm.exit!;
      assert.equal(ended.code, 1);
      assert.match(ended.stderr, /PUT \/machine-config answered 400/);
      assert.equal(vm.requests().length, 1, 'nothing after the refused request');
      assert.equal(vm.vmmPid(), null, 'the unconfigured VMM was killed');
      assert.equal(vm.cleanups(), 1);
    },
  );
}

test(
  'vm-fc-stop.sh: a guest that ignores Ctrl-Alt-Del is left to the supervisor after the grace period',
  { skip },
  async (t) => {
    const vm = new FcInstanceDir(SHELLS[0], bootPlanFile(bootPlan(vmSpec())), { ignoreCtrlAltDel: true });
    t.after(() => vm.dispose());
    vm.start();
    await vm.waitFor('boot', () => vm.requests().some((r) => r.path === '/actions'));
    const t0 = Date.now();
    assert.equal(await vm.stop(), 0);
    assert.ok(Date.now() - t0 >= 5000, 'it waited for the guest before giving up');
    assert.notEqual(vm.vmmPid(), null, 'still running: the supervisor TERMs and KILLs next');
    process.kill(-vm.run!.pid!, 'SIGTERM');
    await vm.exit!;
    assert.equal(vm.vmmPid(), null);
  },
);
