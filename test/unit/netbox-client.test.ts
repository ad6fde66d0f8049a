// NetboxIpAllocator against the NetBox double (test/helpers/netbox-double.ts), which checks every
// request and answer against the 4.2 OpenAPI schema and serialises available-ips as NetBox does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetboxError, NetboxIpAllocator } from '../../src/integrations/netbox/client.ts';
import { formatIssues } from '../helpers/openapi-validator.ts';
import {
  assertAllSpecValid,
  NETBOX_TOKEN as TOKEN,
  netboxSkip as skip,
  netboxSpec as spec,
  withNetbox,
  type Json,
  type NetboxDouble,
} from '../helpers/netbox-double.ts';

if (skip) console.log(`# skipping NetBox client tests: ${skip}`);

function allocator(nb: NetboxDouble, token = TOKEN): NetboxIpAllocator {
  return new NetboxIpAllocator({
    baseUrl: nb.base,
    token,
    pools: { prod: { prefix: '10.20.0.0/24' }, ghost: { prefix: '10.99.0.0/24' } },
  });
}

test('allocate, allocate again (idempotent), release', { skip }, async () => {
  await withNetbox(async (nb) => {
    const ipam = allocator(nb);
    const first = await ipam.allocate('prod', 'vm-1');
    assert.deepEqual(first, { address: '10.20.0.2', prefixLength: 24, gateway: '10.20.0.1' });
    assert.deepEqual(await ipam.allocate('prod', 'vm-1'), first);
    const gatewayRecord = [...nb.ips.values()].find((ip) => ip.address === '10.20.0.1/24');
    assert.ok(gatewayRecord, 'the gateway is recorded so NetBox never hands it out');
    const owned = [...nb.ips.values()].find((ip) => ip.address === '10.20.0.2/24');
    assert.equal(owned?.description, 'grim:vm-1');
    assert.deepEqual(
      owned?.tags.map((t: Json) => t.slug),
      ['grim'],
    );
    assert.equal(nb.tags.length, 1, 'the grim tag was created once');
    await ipam.release('vm-1');
    assert.equal(
      [...nb.ips.values()].some((ip) => ip.description === 'grim:vm-1'),
      false,
    );
    await ipam.release('vm-1'); // nothing left: not an error
    const post = nb.requests.find((r) => r.url.endsWith('/available-ips/'));
    assert.equal(post?.status, 201);
    assertAllSpecValid(nb);
  });
});

test('100 concurrent allocations get 100 distinct addresses', { skip }, async () => {
  await withNetbox(async (nb) => {
    const ipam = allocator(nb);
    const owners = Array.from({ length: 100 }, (_, i) => `vm-${i}`);
    const results = await Promise.all(owners.map((o) => ipam.allocate('prod', o)));
    const addresses = new Set(results.map((r) => r.address));
    assert.equal(addresses.size, 100);
    assert.equal(addresses.has('10.20.0.1'), false);
    assert.equal(
      nb.requests.filter((r) => r.method === 'POST' && r.url.includes('available-ips')).length,
      100,
    );
    assertAllSpecValid(nb);
  });
});

test(
  'without NetBox-style serialisation the double would hand out duplicates (the test can fail)',
  { skip },
  async () => {
    await withNetbox(async (nb) => {
      nb.serialise = false;
      const ipam = allocator(nb);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => ipam.allocate('prod', `vm-${i}`)),
      );
      assert.ok(new Set(results.map((r) => r.address)).size < 20);
    });
  },
);

test('clear errors: bad token, unknown pool, missing prefix, exhausted prefix', { skip }, async () => {
  await withNetbox(async (nb) => {
    await assert.rejects(allocator(nb, 'wrong').allocate('prod', 'vm-1'), (err: NetboxError) => {
      assert.equal(err.status, 403);
      assert.match(err.message, /Invalid token/);
      return true;
    });
    const ipam = allocator(nb);
    await assert.rejects(ipam.allocate('nope', 'vm-1'), /no NetBox pool "nope"/);
    await assert.rejects(ipam.allocate('ghost', 'vm-1'), /NetBox has no prefix 10\.99\.0\.0\/24/);
    await assert.rejects(ipam.allocate('prod', 'bad owner'), /owner "bad owner"/);
    nb.addPrefix('10.30.0.0/30', { custom_fields: { gateway: '10.30.0.1' } });
    const tiny = new NetboxIpAllocator({
      baseUrl: nb.base,
      token: TOKEN,
      pools: { tiny: { prefix: '10.30.0.0/30' } },
    });
    assert.equal((await tiny.allocate('tiny', 'a')).address, '10.30.0.2');
    await assert.rejects(
      tiny.allocate('tiny', 'b'),
      (err: NetboxError) => err.status === 409 && /insufficient number/.test(err.message),
    );
    assertAllSpecValid(nb);
  });
});

test('the schema check rejects what NetBox would (the validator can fail)', { skip }, async () => {
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '/api/ipam/prefixes/7/available-ips/', [{ status: 'up' }], 'body[0].status'],
    ['POST', '/api/ipam/prefixes/7/available-ips/', { status: 'active' }, 'body'],
    ['POST', '/api/ipam/prefixes/x/available-ips/', [{}], 'path.id'],
    ['POST', '/api/ipam/prefixes/7/available-ips/', [{ tags: [{ slug: 'grim' }] }], 'body[0].tags[0].name'],
    [
      'POST',
      '/api/ipam/prefixes/7/available-ips/',
      [{ description: 'x'.repeat(201) }],
      'body[0].description',
    ],
    ['GET', '/api/ipam/ip-addresses/?descripton=grim:x', undefined, 'query.descripton'],
    ['GET', '/api/ipam/ip-addresses/?limit=ten', undefined, 'query.limit'],
    ['DELETE', '/api/ipam/ip-address/3/', undefined, 'path'],
    ['POST', '/api/ipam/ip-addresses/', { status: 'active' }, 'body.address'],
  ];
  for (const [method, url, body, at] of cases) {
    const { issues } = spec.validateRequest({ method, url, body });
    assert.ok(
      issues.some((i) => i.at === at),
      `${method} ${url}: expected an issue at ${at}, got ${formatIssues(issues)}`,
    );
  }
  const fine = spec.validateRequest({
    method: 'POST',
    url: '/api/ipam/prefixes/7/available-ips/',
    body: [{ status: 'active', description: 'grim:a', tags: [{ name: 'grim', slug: 'grim' }] }],
  });
  assert.deepEqual(fine.issues, []);
});
