import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocateWithRetry,
  macAddressForInstance,
  netmaskOf,
  nextFree,
  overlappingPools,
  parseCidr,
  selectPool,
  validatePool,
  type AllocationStore,
  type IpPool,
} from '../../src/domain/ipam.ts';

const pool: IpPool = {
  id: 'p1',
  cidr: '10.20.0.0/24',
  gateway: '10.20.0.1',
  scope: { kind: 'environment', id: 'prod' },
};

test('CIDR validation names the problem', () => {
  assert.deepEqual(parseCidr('10.20.0.0/24'), { network: 0x0a140000, prefixLength: 24 });
  assert.throws(() => parseCidr('10.20.0.5/24'), /host bits set.*10\.20\.0\.0\/24/);
  assert.throws(() => parseCidr('10.20.0.0/33'), /out of range/);
  assert.throws(() => parseCidr('10.20.0.256/24'), /not an IPv4 address/);
  assert.throws(() => parseCidr('10.20.0.0'), /not a CIDR/);
  assert.throws(() => parseCidr('fd00::/64'), /IPv6 is not supported/);
  assert.equal(netmaskOf(30), '255.255.255.252');
  assert.equal(netmaskOf(0), '0.0.0.0');
});

test('pool validation: gateway inside and usable, exclusions inside', () => {
  assert.deepEqual(validatePool(pool), []);
  assert.match(validatePool({ ...pool, gateway: '10.20.1.1' }).join(), /not a usable address/);
  assert.match(validatePool({ ...pool, gateway: '10.20.0.255' }).join(), /not a usable address/);
  assert.match(validatePool({ ...pool, excluded: ['10.21.0.1'] }).join(), /outside/);
  assert.match(validatePool({ ...pool, excluded: ['10.20.0.9-10.20.0.3'] }).join(), /ends before it starts/);
  assert.match(validatePool({ ...pool, cidr: '10.20.0.1/24' }).join(), /host bits/);
});

test('nextFree skips network, gateway, exclusions and used addresses', () => {
  assert.equal(nextFree(pool, []), '10.20.0.2');
  assert.equal(nextFree(pool, ['10.20.0.2', '10.20.0.3']), '10.20.0.4');
  assert.equal(
    nextFree({ ...pool, excluded: ['10.20.0.2-10.20.0.10', '10.20.0.12'] }, ['10.20.0.11']),
    '10.20.0.13',
  );
  const tiny: IpPool = { ...pool, cidr: '10.20.0.0/30', gateway: '10.20.0.1' };
  assert.equal(nextFree(tiny, []), '10.20.0.2');
  assert.equal(nextFree(tiny, ['10.20.0.2']), undefined, 'broadcast is never handed out');
  const p2p: IpPool = { ...pool, cidr: '10.20.0.0/31', gateway: '10.20.0.0' };
  assert.equal(nextFree(p2p, []), '10.20.0.1');
  assert.throws(() => nextFree({ ...pool, gateway: 'x' }, []), /gateway/);
});

test('pool selection prefers the group, overlaps are reported', () => {
  const groupPool: IpPool = {
    ...pool,
    id: 'g',
    cidr: '10.30.0.0/24',
    gateway: '10.30.0.1',
    scope: { kind: 'group', id: 'db' },
  };
  assert.equal(selectPool([pool, groupPool], { environmentId: 'prod', groupId: 'db' })?.id, 'g');
  assert.equal(selectPool([pool, groupPool], { environmentId: 'prod', groupId: 'web' })?.id, 'p1');
  assert.equal(selectPool([pool], { environmentId: 'staging' }), undefined);
  assert.deepEqual(overlappingPools([pool, groupPool, { ...groupPool, id: 'h', cidr: '10.30.0.128/25' }]), [
    ['g', 'h'],
  ]);
});

test('MAC from instance id: stable, locally administered, unicast, distinct', () => {
  const mac = macAddressForInstance('inst-1');
  assert.equal(mac, macAddressForInstance('inst-1'));
  assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const first = parseInt(mac.slice(0, 2), 16);
  assert.equal(first & 0x02, 0x02, 'locally administered');
  assert.equal(first & 0x01, 0, 'unicast');
  const macs = new Set(Array.from({ length: 5000 }, (_, i) => macAddressForInstance(`inst-${i}`)));
  assert.equal(macs.size, 5000);
  assert.throws(() => macAddressForInstance(''), /must not be empty/);
});

/** An in-memory store with a unique (pool, address) constraint whose reads can be stale. */
function racyStore(): AllocationStore & { rows: Map<string, string> } {
  const rows = new Map<string, string>(); // address -> owner
  return {
    rows,
    findByOwner: async (_pool, owner) => [...rows].find(([, o]) => o === owner)?.[0],
    listUsed: async () => {
      const snapshot = [...rows.keys()];
      await new Promise((r) => setImmediate(r)); // others commit meanwhile: the snapshot is stale
      return snapshot;
    },
    tryClaim: async (_pool, address, owner) => {
      if (rows.has(address)) return 'taken';
      rows.set(address, owner);
      return 'claimed';
    },
  };
}

test('allocateWithRetry: concurrent allocations get distinct addresses, and it is idempotent', async () => {
  const store = racyStore();
  const owners = Array.from({ length: 40 }, (_, i) => `vm-${i}`);
  const results = await Promise.all(owners.map((o) => allocateWithRetry(pool, o, store, 100)));
  assert.equal(new Set(results.map((r) => r.address)).size, owners.length);
  assert.ok(results.every((r) => r.prefixLength === 24 && r.gateway === '10.20.0.1'));
  assert.deepEqual(await allocateWithRetry(pool, 'vm-3', store), results[3]);
  const full: IpPool = { ...pool, cidr: '10.20.0.0/29' };
  const small = racyStore();
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((o) => allocateWithRetry(full, o, small)));
  await assert.rejects(allocateWithRetry(full, 'f', small), /no free address/);
});
