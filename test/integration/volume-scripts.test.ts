// The volume node scripts run for real on this machine: directory volumes under dash and busybox ash (size checks
// with numbers, block format with ext4, snapshot copies and their restore, retention), restic backups to a local
// repository restored elsewhere with identical checksums, and ZFS datasets on a real zfs-fuse pool in a private
// mount namespace (quota enforced, snapshots, restore through a clone that keeps later snapshots).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync as listDir, readlinkSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { scriptFor } from '../../src/scripts/loader.ts';

type Out = { status: number | null; json: any; stderr: string };

function run(shell: string[], name: string, env: Record<string, string>): Out {
  const r = spawnSync(shell[0], [...shell.slice(1), '-s'], {
    input: scriptFor(name).body,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  const last = r.stdout.trimEnd().split('\n').pop() ?? '';
  let json: unknown = null;
  try {
    json = JSON.parse(last);
  } catch {
    /* not JSON: the caller checks the status */
  }
  return { status: r.status, json, stderr: r.stderr };
}

function ok(shell: string[], name: string, env: Record<string, string>) {
  const r = run(shell, name, env);
  assert.equal(r.status, 0, `${name} under ${shell.join(' ')}: ${r.stderr}`);
  return r.json;
}

/** sha256 over every file's relative path and content, in path order. */
function treeChecksum(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    );
  for (const f of walk(dir).sort()) h.update(relative(dir, f)).update('\0').update(readFileSync(f));
  return h.digest('hex');
}

const shells = [['dash'], ['busybox', 'sh']];

/** The files a process holds open. */
function readlinkAll(pid: number): string[] {
  try {
    return listDir(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

async function waitFor(ok: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await delay(20);
  }
}

for (const shell of shells) {
  test(`directory volumes under ${shell.join(' ')}: create, size check, grow, snapshots, restore, delete`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'grim-vol-'));
    try {
      const base = { VOLUMES_ROOT: root, VOLUME_POOL: 'none' };
      const space = ok(shell, 'volume-space', base);
      assert.equal(space.backend, 'dir');
      assert.ok(space.freeBytes > 0);
      const createData = (size: number) =>
        run(shell, 'volume-create', { ...base, APP: 'web', NAME: 'data', SIZE_BYTES: String(size) });
      const tooBig = createData(space.freeBytes * 4);
      assert.equal(tooBig.status, 4);
      assert.match(tooBig.stderr, new RegExp(`needs ${space.freeBytes * 4} bytes; .* has \\d+ bytes free`));
      const c = createData(16777216).json;
      assert.deepEqual([c.created, c.backend, c.path], [true, 'dir', `${root}/web/data`]);
      assert.equal(createData(16777216).json.created, false);
      const hostile = run(shell, 'volume-create', { ...base, APP: '../etc', NAME: 'x', SIZE_BYTES: '1' });
      assert.equal(hostile.status, 2);
      // Growing: a directory volume grows when the filesystem has room for the increase; it never shrinks.
      const grown = createData(33554432).json;
      assert.deepEqual([grown.created, grown.grown, grown.sizeBytes], [false, 'yes', 33554432]);
      const shrink = createData(16777216);
      assert.equal(shrink.status, 4);
      assert.match(shrink.stderr, /is 33554432 bytes: it cannot shrink to 16777216 bytes/);
      const noRoom = createData(space.freeBytes * 4);
      assert.equal(noRoom.status, 4);
      assert.match(noRoom.stderr, /cannot grow to \d+ bytes: it uses \d+ bytes and .* has \d+ bytes free/);

      writeFileSync(`${c.path}/counter`, '1\n');
      const s1 = ok(shell, 'volume-snapshot', {
        ...base,
        APP: 'web',
        NAME: 'data',
        SNAPSHOT: 'pre-r2',
        KEEP: '2',
      });
      assert.deepEqual([s1.taken, s1.kind], [true, 'copy']);
      writeFileSync(`${c.path}/counter`, '2\n');
      ok(shell, 'volume-snapshot', { ...base, APP: 'web', NAME: 'data', SNAPSHOT: 'pre-r3', KEEP: '2' });
      writeFileSync(`${c.path}/counter`, '3\n');
      writeFileSync(`${c.path}/later`, 'x');
      const restored = ok(shell, 'volume-restore-snapshot', {
        ...base,
        APP: 'web',
        NAME: 'data',
        SNAPSHOT: 'pre-r2',
      });
      assert.equal(restored.kind, 'copy');
      assert.equal(readFileSync(`${c.path}/counter`, 'utf8'), '1\n');
      assert.throws(() => statSync(`${c.path}/later`), 'files written after the snapshot are gone');
      const s3 = ok(shell, 'volume-snapshot', {
        ...base,
        APP: 'web',
        NAME: 'data',
        SNAPSHOT: 'pre-r4',
        KEEP: '2',
      });
      assert.deepEqual(s3.deleted, ['pre-r2'], 'only the 2 newest snapshots are kept');
      const tooLarge = ok(shell, 'volume-snapshot', {
        ...base,
        APP: 'web',
        NAME: 'data',
        SNAPSHOT: 'pre-r5',
        MAX_COPY_BYTES: '1',
      });
      assert.equal(tooLarge.taken, false);
      assert.match(tooLarge.reason, /more than the 1 bytes/);
      assert.equal(
        run(shell, 'volume-restore-snapshot', { ...base, APP: 'web', NAME: 'data', SNAPSHOT: 'pre-r9' })
          .status,
        3,
      );

      const blk = ok(shell, 'volume-create', {
        ...base,
        APP: 'web',
        NAME: 'disk',
        SIZE_BYTES: String(32 * 1024 * 1024),
        FORMAT: 'block',
        FS_UUID: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
      });
      assert.equal(blk.image, `${root}/web/disk/volume.ext4`);
      const fsinfo = spawnSync('dumpe2fs', ['-h', blk.image], { encoding: 'utf8' }).stdout;
      assert.match(fsinfo, /Filesystem UUID:\s+1b4e28ba-2fa1-41d2-883f-0016d3cca427/);
      assert.match(fsinfo, /Filesystem volume name:\s+grim-vol/);
      assert.ok(statSync(blk.image).blocks * 512 < 8 * 1024 * 1024, 'the image is sparse');
      const blocks = (img: string) =>
        Number(
          /Block count:\s+(\d+)/.exec(spawnSync('dumpe2fs', ['-h', img], { encoding: 'utf8' }).stdout)?.[1],
        );
      const fsBytes = (img: string) =>
        blocks(img) *
        Number(
          /Block size:\s+(\d+)/.exec(spawnSync('dumpe2fs', ['-h', img], { encoding: 'utf8' }).stdout)?.[1],
        );
      writeFileSync(join(root, 'probe'), ''); // (a file to check the image's data survives growth below)
      spawnSync('debugfs', ['-w', '-R', `write ${join(root, 'probe')} kept`, blk.image]);
      assert.equal(fsBytes(blk.image), 32 * 1024 * 1024);
      // Growing a block volume: the file and its ext4 grow (resize2fs) while no process holds the image...
      const growDisk = (size: number) =>
        ok(shell, 'volume-create', {
          ...base,
          APP: 'web',
          NAME: 'disk',
          SIZE_BYTES: String(size),
          FORMAT: 'block',
          FS_UUID: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
        });
      assert.equal(growDisk(48 * 1024 * 1024).grown, 'yes');
      assert.equal(fsBytes(blk.image), 48 * 1024 * 1024);
      // ...and while a VMM holds it open, at the next start.
      const holder = spawn('sh', ['-c', 'exec 3<>"$0"; exec sleep 30', blk.image], { stdio: 'ignore' });
      try {
        await waitFor(() => readlinkAll(holder.pid as number).includes(blk.image));
        assert.equal(growDisk(64 * 1024 * 1024).grown, 'pending');
        assert.equal(fsBytes(blk.image), 48 * 1024 * 1024, 'not resized under a running VM');
      } finally {
        holder.kill();
      }
      await waitFor(() => holder.exitCode !== null || holder.signalCode !== null);
      assert.equal(growDisk(64 * 1024 * 1024).grown, 'yes', 'the pending resize runs at the next start');
      assert.equal(fsBytes(blk.image), 64 * 1024 * 1024);
      assert.match(
        spawnSync('debugfs', ['-R', 'ls -l', blk.image], { encoding: 'utf8' }).stdout,
        /kept/,
        'the data survives growing',
      );

      const list = ok(shell, 'volume-list', base).volumes;
      assert.deepEqual(
        list.map((v: any) => [v.app, v.name, v.sizeBytes, v.snapshots.map((s: any) => s.name)]),
        [
          ['web', 'data', 33554432, ['pre-r3', 'pre-r4']],
          ['web', 'disk', 64 * 1024 * 1024, []],
        ],
      );
      assert.equal(ok(shell, 'volume-delete', { ...base, APP: 'web', NAME: 'data' }).existed, true);
      assert.equal(ok(shell, 'volume-delete', { ...base, APP: 'web', NAME: 'data' }).existed, false);
      assert.deepEqual(
        ok(shell, 'volume-list', base).volumes.map((v: any) => v.name),
        ['disk'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('zvols are detected from `zfs version` as OpenZFS prints it (zfs-fuse: see the ZFS test)', () => {
  const bin = mkdtempSync(join(tmpdir(), 'grim-openzfs-'));
  try {
    // OpenZFS 2.1 (Debian 12's zfsutils-linux) answers `zfs version` with its userland and kernel module.
    writeFileSync(
      join(bin, 'zfs'),
      '#!/bin/sh\ncase $1 in version) printf "zfs-2.1.11-1\\nzfs-kmod-2.1.11-1\\n" ;; get) echo 1073741824 ;; *) exit 1 ;; esac\n',
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${process.env.PATH}`, VOLUME_POOL: 'tank', VOLUMES_ROOT: join(bin, 'v') };
    for (const shell of shells) assert.equal(ok(shell, 'volume-space', env).zvols, true);
    assert.equal(ok(['dash'], 'volume-space', { ...env, VOLUME_POOL: 'none' }).zvols, false);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('restic backups of a volume restore elsewhere with identical checksums, and retention prunes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grim-restic-'));
  try {
    const a = { VOLUMES_ROOT: `${dir}/a`, VOLUME_POOL: 'none' };
    const b = { VOLUMES_ROOT: `${dir}/b`, VOLUME_POOL: 'none' };
    const repo = { RESTIC_REPOSITORY: `${dir}/repo`, RESTIC_PASSWORD: "p'w $(touch /tmp/pwned)" };
    const vol = ok(['dash'], 'volume-create', { ...a, APP: 'db', NAME: 'data', SIZE_BYTES: '16777216' });
    mkdirSync(`${vol.path}/sub`);
    for (let i = 0; i < 20; i++) writeFileSync(`${vol.path}/sub/f${i}`, `row ${i}\n`.repeat(i * 50));
    const first = ok(['dash'], 'volume-backup', { ...a, ...repo, APP: 'db', NAME: 'data', KEEP: '2' });
    assert.match(first.snapshotId, /^[0-9a-f]{8}$/);
    assert.equal(first.files, 20);
    writeFileSync(`${vol.path}/later`, 'x');
    ok(['busybox', 'sh'], 'volume-backup', { ...a, ...repo, APP: 'db', NAME: 'data', KEEP: '2' });
    const third = ok(['dash'], 'volume-backup', { ...a, ...repo, APP: 'db', NAME: 'data', KEEP: '2' });
    assert.equal(third.forgotten, 1, 'keep 2: the oldest backup is forgotten');
    const listed = ok(['dash'], 'volume-backups', { ...repo, APP: 'db', NAME: 'data' }).backups;
    assert.equal(listed.length, 2);
    assert.ok(listed.every((s: any) => s.tags.includes('vol:data') && s.hostname === 'db'));

    const target = ok(['dash'], 'volume-create', { ...b, APP: 'db', NAME: 'data', SIZE_BYTES: '16777216' });
    const r = ok(['busybox', 'sh'], 'volume-restore', {
      ...b,
      ...repo,
      APP: 'db',
      NAME: 'data',
      BACKUP: 'latest',
    });
    assert.equal(r.restored, third.snapshotId);
    assert.ok(r.durationMs >= 0);
    assert.equal(treeChecksum(target.path), treeChecksum(vol.path));
    const again = run(['dash'], 'volume-restore', {
      ...b,
      ...repo,
      APP: 'db',
      NAME: 'data',
      BACKUP: 'latest',
    });
    assert.equal(again.status, 5, 'a volume with data is not overwritten without REPLACE');
    const wrong = run(['dash'], 'volume-restore', {
      ...b,
      ...repo,
      RESTIC_PASSWORD: 'nope',
      APP: 'db',
      NAME: 'data',
      BACKUP: 'latest',
      REPLACE: 'yes',
    });
    assert.notEqual(wrong.status, 0, 'the repository is encrypted with the app password');
    assert.throws(() => statSync('/tmp/pwned'));

    // A zvol is streamed (restic --stdin as /volume.ext4) and dumped back onto the device. The device here is a
    // file named by the same .NAME.zvol marker volume-create.sh leaves (no zvols on this machine).
    const disk = { APP: 'db', NAME: 'disk', SIZE_BYTES: '8388608', FORMAT: 'block' };
    const src = ok(['dash'], 'volume-create', { ...a, ...disk }).image as string;
    spawnSync('debugfs', ['-w', '-R', 'mkdir from-the-zvol', src]);
    writeFileSync(`${dir}/a/db/.disk.zvol`, `${src}\n`);
    const zb = ok(['dash'], 'volume-backup', { ...a, ...repo, APP: 'db', NAME: 'disk' });
    assert.equal(zb.files, 1);
    const dst = ok(['dash'], 'volume-create', { ...b, ...disk }).image as string;
    writeFileSync(`${dir}/b/db/.disk.zvol`, `${dst}\n`);
    const zr = ok(['busybox', 'sh'], 'volume-restore', {
      ...b,
      ...repo,
      APP: 'db',
      NAME: 'disk',
      BACKUP: 'latest',
      REPLACE: 'yes',
    });
    assert.equal(zr.restored, zb.snapshotId);
    assert.equal(zr.bytes, 8388608);
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(dst), sha(src));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ZFS volumes on a real zfs-fuse pool: dataset with quota, snapshots, restore keeping later snapshots', (t) => {
  if (process.getuid?.() !== 0) {
    if (process.env.CI) assert.fail('the ZFS volume test needs root in CI');
    t.skip('needs root (a private mount namespace for zfs-fuse)');
    return;
  }
  if (spawnSync('/sbin/zfs-fuse', ['--help']).error)
    assert.fail('zfs-fuse is missing: scripts/dev/setup.sh --test installs it');
  const dir = mkdtempSync(join(tmpdir(), 'grim-zfs-'));
  try {
    for (const d of ['/run/zfs', '/var/lock/zfs', '/var/lib/zfs']) mkdirSync(d, { recursive: true });
    const steps = join(dir, 'steps.sh');
    // The steps run inside the namespace: each script with its parameters, outputs collected as JSON lines.
    // The scripts as nodes get them (their `# lib:` helpers inlined by the loader).
    const S = join(dir, 'scripts');
    mkdirSync(S);
    for (const name of [
      'volume-space',
      'volume-create',
      'volume-snapshot',
      'volume-restore-snapshot',
      'volume-delete',
      'volume-list',
      'volume-backup',
      'volume-restore',
      'volume-backups',
      'volume-shared',
    ])
      writeFileSync(join(S, `${name}.sh`), scriptFor(name).body);
    const root = join(dir, 'vols');
    writeFileSync(
      steps,
      [
        'set -eu',
        `export VOLUMES_ROOT=${root}`,
        `dash ${S}/volume-space.sh`,
        `APP=web NAME=data SIZE_BYTES=67108864 dash ${S}/volume-create.sh`,
        `APP=web NAME=data SIZE_BYTES=67108864 busybox sh ${S}/volume-create.sh`,
        `zfs get -Hp -o value quota tvol/grim-volumes/web/data | sed 's/^/{"quota":/; s/$/}/'`,
        `echo 1 > ${root}/web/data/counter`,
        `APP=web NAME=data SNAPSHOT=pre-r2 dash ${S}/volume-snapshot.sh`,
        `echo 2 > ${root}/web/data/counter`,
        `APP=web NAME=data SNAPSHOT=pre-r3 busybox sh ${S}/volume-snapshot.sh`,
        `APP=web NAME=data SNAPSHOT=pre-r2 dash ${S}/volume-restore-snapshot.sh`,
        `printf '{"counter":%s}\\n' "$(cat ${root}/web/data/counter)"`,
        `dd if=/dev/zero of=${root}/web/data/big bs=1M count=100 2>/dev/null && echo '{"quotaHeld":false}' || echo '{"quotaHeld":true}'`,
        `rm -f ${root}/web/data/big`,
        `dash ${S}/volume-list.sh`,
        // A block volume: zfs-fuse offers no zvols, so a sparse ext4 file in a dataset; growing it.
        `APP=web NAME=disk SIZE_BYTES=67108864 FORMAT=block dash ${S}/volume-create.sh`,
        `APP=web NAME=disk SIZE_BYTES=100663296 FORMAT=block busybox sh ${S}/volume-create.sh`,
        `zfs get -Hp -o value quota,type tvol/grim-volumes/web/disk | tr '\\n' ' ' | sed 's/^\\([0-9]*\\) \\([a-z]*\\) $/{"quota":\\1,"type":"\\2"}\\n/'`,
        `APP=web NAME=disk dash ${S}/volume-delete.sh 2>/dev/null`,
        `APP=web NAME=data dash ${S}/volume-delete.sh 2>/dev/null`,
      ].join('\n'),
    );
    const r = spawnSync(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        join(import.meta.dirname, '../helpers/zfs-fuse-ns.sh'),
        dir,
        'tvol',
        'sh',
        steps,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const [space, created, again, quota, snap2, snap3, restored, counter, held, list, ...rest] = out;
    const [blk, blkGrown, blkDs, , deleted] = rest;
    assert.deepEqual([space.backend, space.pool, space.zvols], ['zfs', 'tvol', false]);
    assert.deepEqual(
      [blk.backend, blk.image, blkGrown.grown, blkDs.type, blkDs.quota],
      ['zfs', `${root}/web/disk/volume.ext4`, 'yes', 'filesystem', 100663296],
      'no zvol on zfs-fuse: an ext4 file in a dataset, grown with its quota',
    );
    assert.deepEqual([created.created, created.backend, again.created], [true, 'zfs', false]);
    assert.equal(quota.quota, 67108864);
    assert.deepEqual([snap2.kind, snap3.kind], ['zfs', 'zfs']);
    assert.match(restored.kind, /^zfs/);
    assert.equal(counter.counter, 1);
    assert.equal(held.quotaHeld, true, 'writing past the quota fails');
    assert.deepEqual(
      list.volumes[0].snapshots.map((s: any) => s.name),
      ['pre-r2', 'pre-r3'],
      'the restore kept the later snapshot',
    );
    assert.equal(deleted.existed, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
