// The read-only storage scripts under dash and busybox ash on this machine (the lab test runs every
// storage script against real zfs-fuse pools).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';
import { capabilitiesFrom, disksFrom, type RawInventory } from '../../src/domain/storage/inventory.ts';

for (const [shell, prefix] of [
  ['dash', []],
  ['busybox', ['sh']],
] as const) {
  test(`zfs-inventory.sh under ${shell}: one JSON line with disks and ZFS facts`, () => {
    const r = spawnSync(shell, [...prefix, '-s'], {
      input: readFileSync(join(SCRIPTS_DIR, 'node', 'zfs-inventory.sh')),
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const raw = JSON.parse(r.stdout.trim().split('\n').pop()!) as RawInventory;
    assert.equal(typeof raw.zfs.zpool, 'boolean');
    const disks = disksFrom(raw, []);
    for (const d of disks) {
      assert.ok(d.path.startsWith('/dev/'), d.path);
      assert.ok(d.sizeBytes > 0);
    }
    if (raw.zfs.zpool) assert.ok(capabilitiesFrom(raw.zfs));
  });

  test(`zpool-device.sh under ${shell}: an unknown action is refused before zpool runs`, () => {
    const r = spawnSync(shell, [...prefix, '-s'], {
      input: readFileSync(join(SCRIPTS_DIR, 'node', 'zpool-device.sh')),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ACTION: 'explode', POOL: 'tank' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown ACTION explode/);
  });
}

// A zpool that answers like zfs-fuse: -p refused, rounded sizes with -H (as in 07_zpool_list_-Hp_o.txt).
function fakeZfsFuseZpool(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'grim-zpool-'));
  writeFileSync(
    join(dir, 'zpool'),
    [
      '#!/bin/sh',
      'case "$2" in -Hp) echo "invalid option \'p\'" >&2; exit 2 ;; esac',
      "printf 'tank\\t5.97G\\t5.96G\\tONLINE\\nvault\\t2.00G\\t500M\\tDEGRADED\\n'",
    ].join('\n') + '\n',
  );
  chmodSync(join(dir, 'zpool'), 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

for (const [shell, prefix] of [
  ['dash', []],
  ['busybox', ['sh']],
] as const) {
  test(`facts.sh under ${shell}: zpools with sizes in bytes, also from zfs-fuse's rounded -H output`, (t) => {
    const fake = fakeZfsFuseZpool();
    t.after(fake.cleanup);
    const r = spawnSync(shell, [...prefix, '-s'], {
      input: readFileSync(join(SCRIPTS_DIR, 'node', 'facts.sh')),
      env: { PATH: `${fake.dir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const facts = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(facts.zpools, [
      {
        name: 'tank',
        sizeBytes: Math.round(5.97 * 1024 ** 3),
        freeBytes: Math.round(5.96 * 1024 ** 3),
        health: 'ONLINE',
      },
      { name: 'vault', sizeBytes: 2 * 1024 ** 3, freeBytes: 500 * 1024 ** 2, health: 'DEGRADED' },
    ]);
  });
}
