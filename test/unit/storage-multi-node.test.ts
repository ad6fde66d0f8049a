// The same pool layout on several nodes through the real API (SQLite app, inject) with the node side
// faked: disks chosen per node by role and count, every problem of every node listed, nothing created
// unless every node's plan holds; and the disk choice itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp } from '../helpers/app.ts';
import { chooseDisks } from '../../src/domain/storage/disk-choice.ts';
import type { StorageDisk } from '../../src/domain/storage/inventory.ts';
import { zfsFuseCaps } from '../helpers/zfs-caps.ts';
import type { NodeStorage } from '../../src/services/storage/node-state.ts';

const GiB = 1024 ** 3;
const caps = zfsFuseCaps;
const disk = (node: string, i: number, over: Partial<StorageDisk> = {}): StorageDisk => ({
  path: `/dev/disk/by-id/ata-${node.toUpperCase()}_D${i}`,
  dev: `/dev/sd${'abcdefgh'[i]}`,
  kind: 'block',
  sizeBytes: 4 * GiB,
  rotational: true,
  transport: 'sata',
  model: 'M',
  serial: `S${i}`,
  media: 'hdd',
  inUse: null,
  pool: null,
  smart: null,
  ...over,
});

test('chooseDisks: SSDs for log/special first, data then spares in path order, shortfalls named', () => {
  const inv = [
    disk('a', 0, { rotational: false, media: 'ssd' }),
    disk('a', 1),
    disk('a', 2, { inUse: 'partitions' }),
    disk('a', 3),
    disk('a', 4),
    disk('a', 5, { rotational: false, media: 'ssd' }),
  ];
  const r = chooseDisks(inv, { log: 1, spares: 1 });
  assert.ok(r.ok);
  const names = (l: string[]) => l.map((p) => p.slice(-2));
  assert.deepEqual(names(r.chosen.log), ['D0']);
  assert.deepEqual(names(r.chosen.disks), ['D1', 'D3', 'D4']);
  assert.deepEqual(names(r.chosen.spares), ['D5']);
  assert.deepEqual(names((chooseDisks(inv, { data: 2 }) as any).chosen.disks), ['D0', 'D1']);
  const short = chooseDisks(inv, { data: 4, spares: 1, log: 1 });
  assert.deepEqual(short, {
    ok: false,
    problems: [{ path: 'take', message: '5 free disks, the request needs 1 log + 1 spares + 4 data' }],
  });
  assert.equal(
    (chooseDisks(inv.slice(0, 2), { spares: 2 }) as any).problems[0].message,
    '2 free disks, the request needs 2 spares + at least 1 data',
  );
});

test('API: one call plans the same layout on several nodes; every problem per node; nothing created unless all hold', async (t) => {
  const a = await startTestApp(t);
  const states: Record<string, NodeStorage> = {
    n1: {
      capabilities: caps,
      disks: [0, 1, 2, 3, 4, 5].map((i) => disk('n1', i)),
      pools: [],
      health: [],
      datasets: [],
    },
    n2: {
      capabilities: caps,
      disks: [0, 1, 2, 3, 4, 5].map((i) => disk('n2', i)),
      pools: [],
      health: [],
      datasets: [],
    },
    // only 3 free disks
    n3: {
      capabilities: caps,
      disks: [0, 1, 2, 3, 4, 5].map((i) => disk('n3', i, i < 3 ? { inUse: 'pool old', pool: 'old' } : {})),
      pools: [],
      health: [],
      datasets: [],
    },
  };
  const ran: string[] = [];
  const nodes = a.services.storage.nodes;
  nodes.read = async (node) => {
    if (!states[node]) throw new Error(`node ${node} not found`);
    return states[node];
  };
  nodes.run = async (node, script, env) => {
    ran.push(`${node} ${script} ${env.POOL ?? ''}`);
    if (env.POOL === 'tank2' && node === 'n2') throw new Error('zpool-create on n2 failed: I/O error');
    return {};
  };
  const call = (url: string, body: unknown) => a.call('POST', url, { token: a.adminToken, body });
  const pool = { name: 'tank', layout: 'raidz2', take: { spares: 1 } };

  const planned = await call('/api/storage/pool-plans', { nodes: ['n1', 'n2'], pool });
  assert.equal(planned.status, 200, JSON.stringify(planned.json));
  assert.deepEqual(
    planned.json.nodes.map((n: any) => [n.node, n.plan.commandLine]),
    ['n1', 'n2'].map((n) => {
      const id = (i: number) => `/dev/disk/by-id/ata-${n.toUpperCase()}_D${i}`;
      return [
        n,
        `zpool create -o ashift=12 -O compression=on -O atime=off tank raidz2 ${[0, 1, 2, 3, 4].map(id).join(' ')} spare ${id(5)}`,
      ];
    }),
  );
  assert.equal(planned.json.nodes[0].plan.faultTolerance.guaranteed, 2);
  assert.equal(planned.json.nodes[0].plan.usableBytes, planned.json.nodes[1].plan.usableBytes);

  // n3 has too few free disks, n4 does not exist, the name is bad: all of it listed, per node; nothing runs
  const refused = await call('/api/storage/pools', {
    nodes: ['n1', 'n3', 'n4'],
    pool: { ...pool, name: 'bad name', take: { data: 4, spares: 1 } },
    confirm: true,
  });
  assert.equal(refused.status, 400, JSON.stringify(refused.json));
  const details = refused.json.error.details.map((d: any) => `${d.path}: ${d.message}`);
  for (const expected of [
    /^nodes\/n1\/name: n1: pool name contains space/,
    /^nodes\/n3\/take: n3: 3 free disks, the request needs 1 spares \+ 4 data$/,
    /^nodes\/n4\/node: n4: node n4 not found$/,
  ])
    assert.ok(
      details.some((d: string) => expected.test(d)),
      `${expected} in\n${details.join('\n')}`,
    );
  assert.deepEqual(ran, [], 'nothing ran on any node');
  const mixed = await call('/api/storage/pool-plans', {
    nodes: ['n1', 'n1'],
    pool: { ...pool, disks: ['/dev/disk/by-id/ata-N1_D0'] },
  });
  assert.equal(mixed.status, 400);
  assert.deepEqual(
    mixed.json.error.details.map((d: any) => d.message),
    ['listed twice: n1', 'give disks by path or by count (take), not both'],
  );

  // Viewers may plan, only admins create; without confirm only the plans come back
  const viewer = await a.tokenFor('viewer');
  const asViewer = await a.call('POST', '/api/storage/pools', {
    token: viewer,
    body: { nodes: ['n1'], pool, confirm: true },
  });
  assert.equal(asViewer.status, 403);
  const dry = await call('/api/storage/pools', { nodes: ['n1', 'n2'], pool });
  assert.deepEqual(
    dry.json.nodes.map((n: any) => n.ran),
    [false, false],
  );
  assert.deepEqual(ran, []);

  const created = await call('/api/storage/pools', { nodes: ['n1', 'n2'], pool, confirm: true });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  assert.deepEqual(ran.sort(), ['n1 zpool-create tank', 'n2 zpool-create tank']);
  assert.deepEqual(
    created.json.nodes.map((n: any) => [n.node, n.ran]),
    [
      ['n1', true],
      ['n2', true],
    ],
  );
  const schedules = (await a.call('GET', '/api/storage/nodes/n2', { token: a.adminToken })).json.schedules;
  assert.deepEqual(
    schedules.map((s: any) => [s.kind, s.target]),
    [['scrub', 'tank']],
  );

  // A node that fails while creating (after every plan held) reports its error; the others keep their pool
  const partly = await call('/api/storage/pools', {
    nodes: ['n1', 'n2'],
    pool: { ...pool, name: 'tank2', take: { data: 3 } },
    confirm: true,
  });
  assert.equal(partly.status, 200, JSON.stringify(partly.json));
  assert.deepEqual(
    partly.json.nodes.map((n: any) => [n.node, n.ran, n.error]),
    [
      ['n1', true, undefined],
      ['n2', false, 'zpool-create on n2 failed: I/O error'],
    ],
  );
});
