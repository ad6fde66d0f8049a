import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpamStore } from '../../src/services/ipam-store.ts';
import { storeCases, skipReason } from '../helpers/stores.ts';

for (const c of storeCases) {
  test(`ipam store (${c.name}): 100 concurrent allocations get 100 distinct addresses; release returns them`, async (t) => {
    const skip = await skipReason(c);
    if (skip) {
      console.log(`# skip: ${skip}`);
      return t.skip(skip);
    }
    const { db, cleanup } = await c.open();
    t.after(cleanup);
    const ipam = new IpamStore(db);
    await ipam.savePool({
      id: 'lan',
      cidr: '10.20.0.0/24',
      gateway: '10.20.0.1',
      excluded: ['10.20.0.2-10.20.0.9'],
      scope: { kind: 'environment', id: 'prod' },
    });
    const owners = Array.from({ length: 100 }, (_, i) => `inst-${i}`);
    const got = await Promise.all(owners.map((o) => ipam.allocate('lan', o)));
    const addresses = got.map((a) => a.address);
    assert.equal(new Set(addresses).size, 100, 'every allocation is distinct');
    for (const a of got) {
      assert.equal(a.prefixLength, 24);
      assert.equal(a.gateway, '10.20.0.1');
      const last = Number(a.address.split('.')[3]);
      assert.ok(last >= 10 && last <= 254, `${a.address} is outside the usable, non-excluded range`);
    }
    // idempotent per owner
    assert.deepEqual(await ipam.allocate('lan', 'inst-7'), got[7]);
    assert.equal((await ipam.allocations('lan')).length, 100);

    // destroy returns the addresses: release half, they are free again and get reused
    await Promise.all(owners.slice(0, 50).map((o) => ipam.release(o)));
    assert.equal((await ipam.allocations('lan')).length, 50);
    const again = await Promise.all(owners.slice(0, 50).map((o) => ipam.allocate('lan', `new-${o}`)));
    const reused = new Set(again.map((a) => a.address));
    const freed = new Set(got.slice(0, 50).map((a) => a.address));
    assert.deepEqual([...reused].sort(), [...freed].sort(), 'released addresses are handed out again');
    await ipam.release('no-such-owner');
  });

  test(`ipam store (${c.name}): full pools, unknown pools and overlapping pools are errors`, async (t) => {
    const skip = await skipReason(c);
    if (skip) return t.skip(skip);
    const { db, cleanup } = await c.open();
    t.after(cleanup);
    const ipam = new IpamStore(db);
    await ipam.savePool({
      id: 'tiny',
      cidr: '10.30.0.0/30',
      gateway: '10.30.0.1',
      scope: { kind: 'node', id: 'n1' },
    });
    assert.equal((await ipam.allocate('tiny', 'a')).address, '10.30.0.2');
    await assert.rejects(ipam.allocate('tiny', 'b'), /no free address/);
    await assert.rejects(ipam.allocate('nope', 'a'), /does not exist/);
    await assert.rejects(
      ipam.savePool({
        id: 'other',
        cidr: '10.30.0.0/24',
        gateway: '10.30.0.1',
        scope: { kind: 'group', id: 'g' },
      }),
      /overlaps pool tiny/,
    );
    // Each node's NAT pool is private to it: two nodes may use the same range.
    await ipam.savePool({
      id: 'nat-n2',
      cidr: '10.30.0.0/30',
      gateway: '10.30.0.1',
      scope: { kind: 'node', id: 'n2' },
    });
    assert.equal((await ipam.allocate('nat-n2', 'x')).address, '10.30.0.2');
  });
}
