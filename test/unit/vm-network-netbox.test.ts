// Bridged microVM addresses through the vm-network layer (vmNetworkFor + planInstanceNetwork, and the
// qemu-microvm driver's destroy), with NetBox configured (the schema-checking NetBox double) and without it
// (grim's embedded IpamStore). The node side is a recording OpCtx: no node, no SSH.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { configFromEnv } from '../../src/server/config.ts';
import { netboxSettings } from '../../src/integrations/netbox/settings.ts';
import { IpamStore } from '../../src/services/ipam-store.ts';
import { vmNetworkFor, type VmNetworkSetup } from '../../src/services/apps/vm-network.ts';
import { planInstanceNetwork, type VmNetworkOptions } from '../../src/drivers/vm-image/network.ts';
import { createQemuMicrovmDriver } from '../../src/drivers/qemu/driver.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import type { InstanceHandle, InstanceSpec, OpCtx } from '../../src/drivers/driver.ts';
import type { Db } from '../../src/store/db.ts';
import { storeCases } from '../helpers/stores.ts';
import {
  assertAllSpecValid,
  NETBOX_TOKEN,
  netboxSkip,
  withNetbox,
  type Json,
  type NetboxDouble,
} from '../helpers/netbox-double.ts';

if (netboxSkip) console.log(`# skipping the NetBox-backed vm-network test: ${netboxSkip}`);

const sqlite = storeCases.find((c) => c.name === 'sqlite')!;

/** A fresh database with environment prod, group web, a bridged app, a nat app and the group's LAN pool. */
async function openEstate(t: TestContext): Promise<{ db: Db; ipam: IpamStore }> {
  const { db, cleanup } = await sqlite.open();
  t.after(cleanup);
  const now = Date.now();
  await db.run("INSERT INTO environments (name, created_at) VALUES ('prod', ?)", [now]);
  await db.run("INSERT INTO node_groups (name, environment, created_at) VALUES ('web', 'prod', ?)", [now]);
  for (const [app, network] of [
    ['lan-web', 'bridged'],
    ['nat-web', 'nat'],
  ]) {
    const spec = JSON.stringify({ runtime: 'qemu-microvm', network });
    await db.run(
      `INSERT INTO apps (name, environment, group_name, spec, current_release, created_by, created_at, updated_at)
       VALUES (?, 'prod', 'web', ?, 1, 'test', ?, ?)`,
      [app, spec, now, now],
    );
    await db.run(
      `INSERT INTO app_releases (app, number, kind, spec, status, created_by, created_at)
       VALUES (?, 1, 'deploy', ?, 'active', 'test', ?)`,
      [app, spec, now],
    );
  }
  const ipam = new IpamStore(db);
  await ipam.savePool({
    id: 'lan',
    cidr: '10.20.0.0/24',
    gateway: '10.20.0.254', // the NetBox double's prefix says 10.20.0.1 in its custom field: the pool wins
    excluded: [],
    scope: { kind: 'group', id: 'web' },
  });
  return { db, ipam };
}

function specFor(app: string, instanceId: string): InstanceSpec {
  return {
    instanceId,
    app,
    environment: 'prod',
    release: 1,
    resources: { cpuMillis: 500, memoryBytes: 256 * 1024 * 1024 },
    env: {},
    ports: [],
    source: { kind: 'oci', image: 'registry.invalid/web:1' },
  } as unknown as InstanceSpec;
}

/** The node: every script "succeeds"; the scripts run are recorded. */
function recordingNode(node: string): OpCtx & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    node,
    scripts,
    async runScript(name) {
      scripts.push(name);
      const json = { ok: true };
      return {
        json,
        result: { exitCode: 0, stdout: JSON.stringify(json), stderr: '', durationMs: 0, timedOut: false },
      };
    },
    async upload() {
      throw new Error('no uploads expected');
    },
    log() {},
  };
}

/** Plans the instance's network, then destroys it with the qemu-microvm driver (which releases the address). */
function lifecycle(network: VmNetworkOptions) {
  const driver = createQemuMicrovmDriver({
    registry: new RegistryClient(),
    kernel: { name: 'test', image: '/boot/vmlinuz-test' },
    network,
  });
  const ctx = recordingNode('n1');
  return {
    ctx,
    plan: (app: string, id: string) => planInstanceNetwork(ctx, specFor(app, id), network),
    destroy: (id: string) => {
      const handle: InstanceHandle = {
        driver: 'qemu-microvm',
        instanceId: id,
        node: 'n1',
        data: { vmRoot: '/var/lib/grim/vm', tap: `gt-${id}` },
      };
      return driver.destroy(handle, ctx);
    },
  };
}

const ownedBy = (nb: NetboxDouble, id: string): Json[] =>
  [...nb.ips.values()].filter((ip) => ip.description === `grim:${id}`);

test(
  'NetBox configured: bridged addresses come from NetBox, tagged with the instance, released on destroy; nat stays embedded',
  { skip: netboxSkip },
  async (t) => {
    const { db, ipam } = await openEstate(t);
    await withNetbox(async (nb) => {
      const setup: VmNetworkSetup = {
        netbox: netboxSettings({ url: nb.base, token: NETBOX_TOKEN, tag: 'Grim Lab' }),
      };
      const vm = lifecycle(vmNetworkFor(db, ipam, setup));

      const a = await vm.plan('lan-web', 'inst-a');
      const b = await vm.plan('lan-web', 'inst-b');
      for (const plan of [a, b]) {
        assert.equal(plan.mode, 'bridged');
        assert.equal(plan.poolId, 'lan');
        assert.equal(plan.ip.prefixLength, 24);
        assert.equal(plan.ip.gateway, '10.20.0.254', "the pool's configured gateway");
        assert.match(plan.ip.address, /^10\.20\.0\.\d+$/);
      }
      assert.notEqual(a.ip.address, b.ip.address);
      // The addresses live in NetBox, one per instance, tagged and described with the instance id.
      for (const [id, plan] of [
        ['inst-a', a],
        ['inst-b', b],
      ] as const) {
        const owned = ownedBy(nb, id);
        assert.deepEqual(
          owned.map((ip) => ip.address),
          [`${plan.ip.address}/24`],
        );
        assert.deepEqual(
          owned[0].tags.map((tag: Json) => tag.slug),
          ['grim-lab'],
        );
      }
      assert.ok(
        [...nb.ips.values()].some((ip) => ip.address === '10.20.0.254/24'),
        'the gateway is recorded in NetBox so it is never handed out',
      );
      assert.deepEqual(await ipam.allocations('lan'), [], 'the embedded store hands out no LAN address');
      // Idempotent: planning again (a restart) keeps the address and asks NetBox for none.
      const posts = () => nb.requests.filter((r) => r.url.includes('/available-ips/')).length;
      const before = posts();
      assert.deepEqual((await vm.plan('lan-web', 'inst-a')).ip, a.ip);
      assert.equal(posts(), before);

      // nat instances stay on the node's private, embedded pool and never reach NetBox.
      const c = await vm.plan('nat-web', 'inst-c');
      assert.equal(c.mode, 'nat');
      assert.deepEqual(
        (await ipam.allocations('nat-n1')).map((x) => x.owner),
        ['inst-c'],
      );
      assert.deepEqual(ownedBy(nb, 'inst-c'), []);

      // Destroy inst-a: the driver stops and removes the VM, then its NetBox address is deleted.
      vm.ctx.scripts.length = 0;
      await vm.destroy('inst-a');
      assert.deepEqual(vm.ctx.scripts, ['vm-instance-stop', 'vm-instance-destroy']);
      assert.deepEqual(ownedBy(nb, 'inst-a'), []);
      assert.equal(
        [...nb.ips.values()].some((ip) => ip.address === `${a.ip.address}/24`),
        false,
        `${a.ip.address} is gone from NetBox`,
      );
      assert.equal(ownedBy(nb, 'inst-b').length, 1, 'the other instance keeps its address');
      await vm.destroy('inst-a'); // destroy is idempotent

      await vm.destroy('inst-c');
      assert.deepEqual(await ipam.allocations('nat-n1'), []);
      assertAllSpecValid(nb);
    });
  },
);

test('NetBox not configured: bridged addresses come from the embedded IpamStore', async (t) => {
  const { db, ipam } = await openEstate(t);
  const vm = lifecycle(vmNetworkFor(db, ipam));
  const a = await vm.plan('lan-web', 'inst-a');
  const b = await vm.plan('lan-web', 'inst-b');
  assert.deepEqual(
    [a.ip, b.ip],
    [
      { address: '10.20.0.1', prefixLength: 24, gateway: '10.20.0.254' },
      { address: '10.20.0.2', prefixLength: 24, gateway: '10.20.0.254' },
    ],
  );
  const held = async () => (await ipam.allocations('lan')).map((x) => `${x.owner}=${x.address}`);
  assert.deepEqual(await held(), ['inst-a=10.20.0.1', 'inst-b=10.20.0.2']);
  await vm.destroy('inst-a');
  assert.deepEqual(await held(), ['inst-b=10.20.0.2']);
});

test('GRIM_NETBOX_* settings: both URL and token or neither; the token is never printed', () => {
  assert.equal(configFromEnv({}, {}).netbox, undefined);
  const token = 'secret-token-0123456789';
  const config = configFromEnv(
    {},
    {
      GRIM_NETBOX_URL: 'https://netbox.example.net/',
      GRIM_NETBOX_TOKEN: token,
      GRIM_NETBOX_TAG: 'grim-prod',
    },
  );
  assert.equal(config.netbox?.url, 'https://netbox.example.net');
  assert.equal(config.netbox?.token, token);
  assert.equal(config.netbox?.tag, 'grim-prod');
  for (const printed of [
    JSON.stringify(config),
    inspect(config, { depth: 5 }),
    `${JSON.stringify({ ...config })}`,
  ]) {
    assert.equal(printed.includes(token), false, `token leaked in ${printed}`);
    assert.match(printed, /netbox\.example\.net/);
  }
  assert.throws(
    () => configFromEnv({}, { GRIM_NETBOX_URL: 'https://netbox.example.net' }),
    /GRIM_NETBOX_URL is set but GRIM_NETBOX_TOKEN is not/,
  );
  assert.throws(
    () => configFromEnv({}, { GRIM_NETBOX_TOKEN: token }),
    (err: Error) =>
      /GRIM_NETBOX_TOKEN is set but GRIM_NETBOX_URL is not/.test(err.message) && !err.message.includes(token),
  );
  assert.throws(
    () => configFromEnv({}, { GRIM_NETBOX_URL: 'ftp://netbox', GRIM_NETBOX_TOKEN: token }),
    /GRIM_NETBOX_URL must be http\(s\)/,
  );
  assert.throws(
    () => configFromEnv({}, { GRIM_NETBOX_URL: 'https://u:pw@netbox', GRIM_NETBOX_TOKEN: token }),
    (err: Error) => /without credentials/.test(err.message) && !err.message.includes('pw'),
  );
  assert.throws(
    () =>
      configFromEnv(
        {},
        { GRIM_NETBOX_URL: 'https://netbox', GRIM_NETBOX_TOKEN: token, GRIM_NETBOX_TAG: '!!!' },
      ),
    /NetBox tag "!!!"/,
  );
});
