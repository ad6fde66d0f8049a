// The storage CLI against a real grim server and a storage lab made by `grim lab up --storage-disks`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGrimServer, grim, cliEnv } from '../helpers/grim-process.ts';
import { uniqueLabName } from '../helpers/lab.ts';
import { checkLabPrerequisites, labDown } from '../../src/lab/lab.ts';

test('CLI: storage lab up --register, plan shows command and capacity, create --yes, dataset, snapshot, destroy by name', async (t) => {
  const missing = await checkLabPrerequisites();
  if (missing.length) {
    if (process.env.CI) throw new Error(`lab prerequisites missing in CI: ${missing.join('; ')}`);
    t.skip(missing.join('; '));
    return;
  }
  const srv = await startGrimServer({ GRIM_ADMIN_PASSWORD: 'cli-storage-password' });
  t.after(() => srv.stop());
  const name = uniqueLabName();
  t.after(() => labDown(name));
  const env = cliEnv();
  const run = async (args: string[], ok = true) => {
    const r = await grim(args, env);
    if (ok) assert.equal(r.code, 0, `grim ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r;
  };
  await grim(['login', '--server', srv.url, '--password-stdin'], env, 'cli-storage-password\n');
  const up = await run([
    'lab',
    'up',
    '--name',
    name,
    '--nodes',
    '2',
    '--storage-disks',
    '6x1G',
    '--register',
  ]);
  assert.match(up.stdout, new RegExp(`registered ${name}-n1`));
  const n1 = `${name}-n1`;
  const n2 = `${name}-n2`;

  const shown = JSON.parse((await run(['storage', 'show', n1, '--refresh', '--json'])).stdout);
  const ids = shown.disks
    .filter((d: any) => d.kind === 'file')
    .map((d: any) => d.path.replace('/dev/disk/by-id/', ''));
  assert.equal(ids.length, 6);

  const plan = await run([
    'storage',
    'plan',
    n1,
    '--name',
    'tank',
    '--layout',
    'raidz2',
    '--disks',
    ids.join(','),
  ]);
  assert.match(
    plan.stdout,
    /^will run: {3}zpool create -o ashift=12 -O compression=on -O atime=off tank raidz2 \/dev\/disk\/by-id\//m,
  );
  assert.match(plan.stdout, /^capacity: {3}3\.91G usable \(4201731072 bytes\), 5\.97G raw$/m);
  assert.match(plan.stdout, /^may fail: {3}any 2 disks may fail$/m);

  // The same layout on both nodes, each with its own free disks by role and count (one API call):
  // two plans, nothing runs
  const both = await run([
    'storage',
    'plan',
    `${n1},${n2}`,
    '--name',
    'tank',
    '--layout',
    'raidz2',
    '--disks',
    'free',
    '--spares',
    'free:1',
  ]);
  for (const n of [n1, n2]) {
    const id = `/dev/disk/by-id/ata-GRIM_LAB_DISK_\\S+${n.split('-').pop()}d`;
    assert.match(
      both.stdout,
      new RegExp(`^== ${n}\nwill run: {3}zpool create .* tank raidz2( ${id}[1-5]){5} spare ${id}6$`, 'm'),
    );
  }
  assert.equal((both.stdout.match(/^capacity: {3}2\.89G usable \(3107994624 bytes\)/gm) ?? []).length, 2);

  const dry = await run([
    'storage',
    'create',
    n1,
    '--name',
    'tank',
    '--layout',
    'raidz2',
    '--disks',
    ids.join(','),
  ]);
  assert.match(dry.stdout, /nothing ran: add --yes/);
  assert.equal(
    JSON.parse((await run(['storage', 'show', n1, '--refresh', '--json'])).stdout).pools.length,
    0,
  );
  const created = await run([
    'storage',
    'create',
    n1,
    '--name',
    'tank',
    '--layout',
    'raidz2',
    '--disks',
    ids.join(','),
    '--yes',
  ]);
  assert.match(created.stdout, /created pool tank/);

  const ids2 = JSON.parse((await run(['storage', 'show', n2, '--refresh', '--json'])).stdout)
    .disks.filter((d: any) => d.kind === 'file')
    .map((d: any) => d.path);
  await run([
    'storage',
    'create',
    n2,
    '--name',
    'vault',
    '--layout',
    'striped-mirrors',
    '--width',
    '2',
    '--disks',
    ids2.join(','),
    '--yes',
  ]);

  const ds = await run(['storage', 'dataset', 'create', n1, 'tank/data', '--quota', '50Mi']);
  assert.equal(ds.stdout.trim(), 'zfs create -p -o quota=52428800 tank/data');
  await run(['storage', 'snapshot', n1, 'create', 'tank/data@one']);
  const text = (await run(['storage', 'show', n1])).stdout;
  assert.match(text, /^pool tank: ONLINE/m);
  assert.match(text, /^ {4}raidz2-0 {2}ONLINE {2}0\/0\/0$/m);
  assert.match(text, /^tank\/data@one +snapshot/m);
  assert.match(text, /^tank\/data +filesystem +\d+ +\d+ +52428800/m);

  const hostile = await run(
    [
      'storage',
      'plan',
      n1,
      '--name',
      'bad name',
      '--layout',
      'raidz2',
      '--disks',
      '../../etc/passwd,x;reboot',
    ],
    false,
  );
  assert.equal(hostile.code, 1);
  assert.match(hostile.stderr, /- name: pool name contains space/);
  assert.match(hostile.stderr, /- disks\/0: .*"\." or "\.\."/);
  assert.match(hostile.stderr, /- disks\/1: .*";"/);

  const noConfirm = await run(['storage', 'destroy', n2, 'vault']);
  assert.match(noConfirm.stdout, /^zpool destroy vault\nnothing ran/);
  const wrong = await run(['storage', 'destroy', n2, 'vault', '--confirm', 'tank'], false);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /type the pool's name \(vault\)/);
  assert.match((await run(['storage', 'destroy', n2, 'vault', '--confirm', 'vault'])).stdout, /destroyed/);
  const events = await run(['storage', 'events', '--node', n2]);
  assert.match(events.stdout, /pool vault is no longer listed/);
});
