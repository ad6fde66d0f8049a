// The read-only storage scripts under dash and busybox ash on this machine (the lab test runs every
// storage script against real zfs-fuse pools).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
