// Every recorded ZFS output in shared/fixtures/zfs (OpenZFS 2.x docs, man pages) and
// shared/fixtures/zfs-fuse (zfs-fuse 0.7 on this kind of machine) through grim's parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { sharedDir } from '../helpers/openapi-validator.ts';
import {
  parseConfigTable,
  parseScan,
  parseZpoolStatusText,
} from '../../src/domain/storage/parse-status-text.ts';
import { parseZpoolStatusJson } from '../../src/domain/storage/parse-status-json.ts';
import {
  byteProperty,
  parseZfsGet,
  parseZfsList,
  parseZpoolList,
} from '../../src/domain/storage/parse-lists.ts';
import {
  leaves,
  totalErrors,
  unhealthyVdevs,
  type PoolStatus,
} from '../../src/domain/storage/pool-status.ts';
import { capabilitiesFrom } from '../../src/domain/storage/inventory.ts';
import { summarize, healthEvents } from '../../src/domain/storage/health.ts';

const zfsDir = path.join(sharedDir(), 'fixtures', 'zfs');
const fuseDir = path.join(sharedDir(), 'fixtures', 'zfs-fuse');
const missing =
  existsSync(zfsDir) && existsSync(fuseDir)
    ? ''
    : `ZFS fixtures not found under ${sharedDir()}: set GRIM_SHARED_DIR`;
const read = (dir: string, f: string) => readFileSync(path.join(dir, f), 'utf8');

/** Splits a recorded file into its "$ command" blocks. */
function blocks(text: string): { cmd: string; out: string }[] {
  return text
    .split(/^\$ /m)
    .slice(1)
    .map((b) => {
      const nl = b.indexOf('\n');
      return { cmd: b.slice(0, nl), out: b.slice(nl + 1) };
    });
}

const one = (text: string): PoolStatus => {
  const pools = parseZpoolStatusText(text);
  assert.equal(pools.length, 1, `one pool in ${text.slice(0, 80)}`);
  return pools[0];
};
const leafStates = (p: PoolStatus) => leaves(p).map((l) => `${l.name.split('/').pop()}=${l.state}`);

type Check = (text: string) => void;

const zfsChecks: Record<string, Check> = {
  'status-online-draid-spare-avail.txt': (t) => {
    const p = one(t);
    assert.equal(p.state, 'ONLINE');
    assert.equal(p.scan, null);
    assert.equal(p.root.children[0].type, 'draid');
    assert.equal(p.root.children[0].children.length, 11);
    assert.deepEqual(
      p.spares.map((s) => [s.name, s.type, s.state]),
      [['draid1-0-0', 'dspare', 'AVAIL']],
    );
  },
  'status-degraded-draid-sequential-rebuild-to-dspare.txt': (t) => {
    const p = one(t);
    assert.equal(p.state, 'DEGRADED');
    assert.equal(p.scan?.kind, 'resilver');
    assert.equal(p.scan?.state, 'in-progress');
    assert.equal(p.scan?.percentDone, 57.17);
    assert.equal(p.scan?.etaSeconds, 201);
    const spare = p.root.children[0].children.find((c) => c.name === 'spare-6')!;
    assert.deepEqual(
      spare.children.map((c) => `${c.name}=${c.state}`),
      ['sdg=UNAVAIL', 'draid1-0-0=ONLINE'],
    );
    assert.equal(spare.children[1].note, '(resilvering)');
    assert.deepEqual(
      unhealthyVdevs(p).map((u) => u.path),
      ['draid1:4d:11c:1s-0', 'draid1:4d:11c:1s-0/spare-6', 'draid1:4d:11c:1s-0/spare-6/sdg'],
    );
  },
  'status-degraded-draid-resilver-replacing.txt': (t) => {
    const p = one(t);
    assert.equal(p.scan?.percentDone, 99.44);
    assert.equal(p.scan?.etaSeconds, 4);
    assert.equal(p.scan?.repairedBytes, Math.round(565 * 1024 ** 3));
    const replacing = p.root.children[0].children.find((c) => c.name === 'spare-6')!.children[0];
    assert.equal(replacing.type, 'replacing');
    assert.deepEqual(
      replacing.children.map((c) => `${c.name}=${c.state}`),
      ['sdg=UNAVAIL', 'sdl=ONLINE'],
    );
    // the docs mis-indent the last spares line: it still belongs to spares
    assert.deepEqual(
      p.spares.map((s) => `${s.name}=${s.state}`),
      ['draid1-0-0=INUSE'],
    );
  },
  'status-degraded-faulted-cannot-open.txt': (t) => {
    const p = one(t);
    assert.equal(p.state, 'DEGRADED');
    assert.deepEqual(leafStates(p), ['sda=ONLINE', 'sdb=FAULTED']);
    assert.equal(leaves(p)[1].note, 'cannot open');
    assert.equal(p.scan?.state, 'none');
    assert.match(p.see, /ZFS-8000-2Q/);
  },
  'status-online-cksum-errors.txt': (t) => {
    const p = one(t);
    assert.equal(p.state, 'ONLINE');
    assert.equal(leaves(p)[0].checksumErrors, 2);
    assert.equal(totalErrors(p), 2);
    assert.match(p.status, /unrecoverable error/);
  },
  'status-degraded-replacing-resilver-legacy.txt': (t) => {
    const p = one(t);
    assert.equal(p.scan?.kind, 'resilver');
    assert.equal(p.scan?.percentDone, 0.14);
    const replacing = p.root.children[0].children[0];
    assert.equal(replacing.type, 'replacing');
    assert.equal(replacing.children[0].checksumErrors, 3);
    assert.equal(replacing.children[1].note, '58.5K resilvered');
  },
  'status-json-raidz1-dedup-special.zpool-status.8.json': (t) => {
    const [p] = parseZpoolStatusJson(t);
    assert.equal(p.name, 'tank');
    assert.equal(p.state, 'ONLINE');
    assert.equal(p.root.children[0].type, 'raidz1');
    assert.equal(p.root.children[0].state, 'ONLINE', 'HEALTHY in the man page is read as ONLINE');
    assert.equal(p.root.children[0].children.length, 3);
    assert.equal(p.dedup[0].type, 'mirror');
    assert.equal(p.special.length, 1);
    assert.equal(leaves(p).length, 6);
    assert.equal(p.dataErrors, 0);
  },
  'status-online-mirrors-with-log.zpool.8.txt': (t) => {
    const p = one(t);
    assert.deepEqual(
      p.root.children.map((c) => c.name),
      ['mirror-0', 'mirror-1'],
    );
    assert.equal(p.logs[0].type, 'mirror');
    assert.deepEqual(
      p.logs[0].children.map((c) => c.name),
      ['sde', 'sdf'],
    );
  },
  'config-table-degraded-draid-double-spare.spa.c.txt': (t) => {
    const p = parseConfigTable(t);
    assert.equal(p.name, 'tank2');
    assert.equal(p.state, 'DEGRADED');
    const spare9 = p.root.children[0].children.find((c) => c.name === 'spare-9')!;
    const replacing = spare9.children[0];
    assert.equal(replacing.writeErrors, 93);
    assert.deepEqual(
      replacing.children[1].children.map((c) => `${c.name}=${c.state}`),
      ['scsi-0QEMU_QEMU_HARDDISK_d10=REMOVED', 'draid2-0-0=ONLINE'],
    );
    assert.equal(p.spares.length, 2);
  },
  'scan-lines-scrub-in-progress.zpool-scrub.8.txt': (t) => {
    const scan = parseScan(t.replace(/^\s*scan:/, ''));
    assert.equal(scan.kind, 'scrub');
    assert.equal(scan.state, 'in-progress');
    assert.equal(scan.percentDone, 16.91);
    assert.equal(scan.etaSeconds, 4);
    assert.equal(scan.when, 'Sun Jul 25 16:07:49 2021');
    assert.equal(scan.repairedBytes, 0);
  },
  'lsblk-J-b-this-machine-util-linux-2.38.1.json': (t) => {
    // grim's inventory reads /sys/block itself (busybox has no lsblk); the fixture pins the facts it
    // relies on: sizes in bytes, rotational as a boolean, missing model/serial as null.
    const doc = JSON.parse(t) as {
      blockdevices: { name: string; size: number; rota: boolean; model: null }[];
    };
    const vda = doc.blockdevices.find((d) => d.name === 'vda')!;
    assert.equal(vda.size, 274877906944);
    assert.equal(vda.rota, true);
    assert.equal(vda.model, null);
  },
};

const status = (t: string) => parseZpoolStatusText(t);
const fuseChecks: Record<string, Check> = {
  '05_zpool_status.txt': (t) => {
    const pools = status(t);
    assert.deepEqual(
      pools.map((p) => p.name),
      ['tmir', 'traidz1', 'traidz2', 'tstripe'],
    );
    const s = pools[3];
    assert.deepEqual(
      s.root.children.map((c) => c.type),
      ['mirror', 'mirror'],
    );
    assert.equal(s.logs.length, 1);
    assert.equal(s.cache[0].name, 'loop0');
    assert.deepEqual(
      s.spares.map((x) => x.state),
      ['AVAIL'],
    );
    assert.ok(pools.every((p) => p.scan?.state === 'none' && p.errors === 'No known data errors'));
    assert.equal(pools[1].root.children[0].type, 'raidz1');
  },
  '06_zpool_status_-v.txt': (t) => assert.equal(one(t).spares[0].name, '/var/lib/grim-lab/n1/vdisks/d16.img'),
  '06_zpool_status_-x.txt': (t) => assert.deepEqual(status(t), []),
  '14_zpool_scrub_status_during.txt': (t) => {
    const scan = one(t).scan!;
    assert.deepEqual(
      [scan.kind, scan.state, scan.percentDone, scan.etaSeconds],
      ['scrub', 'in-progress', 21.11, 0],
    );
  },
  '14_zpool_scrub_status_after.txt': (t) => {
    const scan = one(t).scan!;
    assert.deepEqual(
      [scan.kind, scan.state, scan.errors, scan.when],
      ['scrub', 'finished', 0, 'Sun Dec 6 09:21:17 2026'],
    );
  },
  '14_zpool_scrub_-s_stopped.txt': (t) => assert.equal(one(t).scan?.state, 'finished'),
  '14_zpool_scrub.txt': (t) => assert.deepEqual(status(t), []),
  '15_zpool_offline.txt': (t) => assert.deepEqual(status(t), []),
  '15_zpool_offline_status_degraded.txt': (t) => {
    const [p, x] = status(t);
    assert.equal(p.state, 'DEGRADED');
    assert.deepEqual(
      unhealthyVdevs(p).map((u) => `${u.path.split('/').pop()}=${u.state}`),
      ['raidz2-0=DEGRADED', 'd07.img=OFFLINE'],
    );
    assert.match(p.status, /taken offline by the administrator/);
    assert.equal(x.state, 'DEGRADED', 'zpool status -x shows the same pool');
  },
  '16_zpool_replace.txt': (t) => assert.deepEqual(status(t), []),
  '16_zpool_replace_status_resilvering.txt': (t) => {
    const p = one(t);
    assert.deepEqual([p.scan?.kind, p.scan?.state, p.scan?.percentDone], ['resilver', 'in-progress', 28.92]);
    const replacing = p.root.children[0].children[1];
    assert.equal(replacing.name, 'replacing-1');
    assert.deepEqual(
      replacing.children.map((c) => c.note),
      ['', '47.8M resilvered'],
    );
  },
  '16_zpool_replace_status_after.txt': (t) => {
    const p = one(t);
    assert.deepEqual([p.state, p.scan?.kind, p.scan?.state], ['ONLINE', 'resilver', 'finished']);
    assert.equal(p.root.children[0].children[1].note, '176M resilvered');
  },
  '17_zpool_clear.txt': (t) => assert.deepEqual(status(t), []),
  '17_zpool_scrub_cksum_errors.txt': (t) => {
    const p = one(t);
    assert.equal(leaves(p)[1].checksumErrors, 1007);
    assert.equal(leaves(p)[1].note, '97.3M repaired');
    assert.equal(totalErrors(p), 1007);
    assert.match(p.see, /ZFS-8000-9P/);
  },
  '18_zpool_export.txt': (t) => assert.deepEqual(status(t), []),
  '18_zpool_import_degraded.txt': (t) => {
    const p = one(t);
    const missingLeaf = leaves(p)[1];
    assert.deepEqual(
      [missingLeaf.name, missingLeaf.state, missingLeaf.wasPath],
      ['9311079133027871993', 'UNAVAIL', '/var/lib/grim-lab/n1/vdisks/d02.img'],
    );
  },
  '18_zpool_import_scan.txt': (t) => {
    const p = one(t);
    assert.equal(p.id, '8940987225874095767');
    assert.deepEqual(leafStates(p), ['d01.img=ONLINE', 'd02.img=UNAVAIL']);
    assert.equal(leaves(p)[1].note, 'cannot open');
  },
  '19_zpool_online.txt': (t) => assert.equal(one(t).scan?.kind, 'resilver'),
  '20_zpool_detach_spare.txt': (t) => assert.deepEqual(status(t), []),
  '20_zpool_replace_with_spare.txt': (t) => {
    const p = one(t);
    assert.equal(p.root.children[0].children[0].type, 'spare');
    assert.deepEqual(
      p.spares.map((s) => [s.state, s.note]),
      [['INUSE', 'currently in use']],
    );
  },
  '24_zpool_export_import.txt': (t) => {
    const [listing, imported] = status(t);
    assert.equal(listing.id, '6929756315702286611');
    assert.deepEqual(
      listing.cache.map((c) => c.state),
      [''],
    );
    assert.equal(listing.logs.length, 1);
    assert.equal(imported.state, 'ONLINE');
  },
  '25_zpool_status_-x.txt': (t) => assert.deepEqual(status(t), []),
  '28_zpool_create_raidz3.txt': (t) => {
    const p = status(t)[0];
    assert.equal(p.root.children[0].type, 'raidz3');
    assert.equal(p.root.children[0].children.length, 5);
  },
  '30_namespace_single.txt': (t) => {
    const [p, after] = status(t);
    assert.equal(p.root.children[0].children.length, 3);
    assert.equal(after.scan?.state, 'finished');
    assert.equal(after.root.children.length, 0, 'text after a cut-off table is not read as vdevs');
  },
  '33_zpool_destroy.txt': (t) => assert.equal(one(t).root.children[0].type, 'raidz3'),
  '07_zpool_list.txt': (t) => {
    // the header line has no tabs: only -H output is parsed
    assert.deepEqual(parseZpoolList(t), []);
  },
  '07_zpool_list_-H_o.txt': (t) => {
    const rows = parseZpoolList(t, [
      'name',
      'size',
      'allocated',
      'free',
      'capacity',
      'dedupratio',
      'health',
      'guid',
      'altroot',
    ]);
    assert.equal(rows.length, 5);
    assert.deepEqual(
      [rows[0].name, rows[0].sizeBytes, rows[0].capacityPercent, rows[0].health, rows[0].exact],
      ['tmir', 250 * 1024 ** 2, 40, 'ONLINE', false],
    );
    assert.equal(rows[3].sizeBytes, Math.round(1.23 * 1024 ** 3));
  },
  '07_zpool_list_-Hp_o.txt': (t) => {
    const [, , last] = blocks(t);
    assert.equal(parseZpoolList(blocks(t)[0].out).length, 0, 'the usage text of a refused -p is not rows');
    const fields = ['name', 'size', 'allocated', 'free', 'capacity', 'dedupratio', 'health'];
    assert.deepEqual(
      parseZpoolList(last.out, fields).map((r) => `${r.name}=${r.health}`),
      ['tmir=ONLINE', 'traidz1=ONLINE', 'traidz2=ONLINE', 'tstripe=ONLINE'],
    );
  },
  '07_zpool_list_-v.txt': (t) => assert.deepEqual(parseZpoolList(t), []),
  '08_zpool_get_-H.txt': (t) => assert.equal(parseZfsGet(t).size, 0),
  '08_zpool_get_-p.txt': (t) => assert.equal(parseZfsGet(t).size, 0),
  '08_zpool_get_all.txt': (t) => assert.equal(parseZfsGet(t).size, 0, 'not -H: column text is not read'),
  '09_zfs_list.txt': (t) =>
    assert.deepEqual(parseZfsList(t, ['name', 'used', 'avail', 'refer', 'mountpoint']), []),
  '09_zfs_list_-H.txt': (t) => {
    const rows = parseZfsList(t, ['name', 'used', 'avail', 'refer', 'mountpoint']);
    assert.deepEqual(
      rows.map((r) => r.name),
      ['tmir', 'traidz1', 'traidz2', 'tstripe'],
    );
  },
  '09_zfs_list_-Hp.txt': (t) => assert.deepEqual(parseZfsList(t, ['name', 'used']), []),
  '11_zfs_set_quota.txt': (t) => {
    const props = parseZfsGet(blocks(t)[3].out);
    assert.equal(props.get('tstripe/ds')?.quota, '100M');
    assert.equal(props.get('tstripe/seaweed/vol1')?.refquota, '50M');
  },
  '12_zfs_get_-Hp.txt': (t) => {
    const props = parseZfsGet(t);
    assert.equal(byteProperty(props.get('tstripe/ds')?.quota), 104857600);
    assert.equal(byteProperty(props.get('tstripe')?.quota), null);
    assert.equal(Number(props.get('tstripe/seaweed/vol1')?.available), 52314112);
  },
  '12_zfs_get_all.txt': (t) => assert.equal(parseZfsGet(t).size, 0),
  '13_zfs_snapshot.txt': (t) => {
    const rows = parseZfsList(blocks(t)[3].out, ['name', 'type', 'used', 'avail', 'refer', 'mountpoint']);
    assert.deepEqual(
      rows.filter((r) => r.type === 'snapshot').map((r) => r.name),
      [
        'tstripe@rsnap',
        'tstripe/ds@snap1',
        'tstripe/ds@rsnap',
        'tstripe/seaweed@rsnap',
        'tstripe/seaweed/vol1@rsnap',
      ],
    );
  },
  '25_zfs_get_-Hp_creation.txt': (t) => {
    const p = parseZfsGet(t).get('tstripe/ds@snap1')!;
    assert.deepEqual([p.creation, p.used], ['1796548850', '90112']);
  },
  '25_zfs_list_snapshots_-H.txt': (t) =>
    assert.equal(parseZfsList(t, ['name', 'used', 'refer', 'creation'])[0].name, 'tstripe/ds@snap1'),
  '26_zfs_get_-H_all_pool_root.txt': (t) =>
    assert.equal(parseZfsGet(t).get('tstripe')?.mountpoint, '/var/lib/grim-lab/n1/mnts/tstripe'),
  '29_zfs_list_-H_props.txt': (t) => {
    const rows = parseZfsList(t, [
      'name',
      'used',
      'avail',
      'refer',
      'quota',
      'reservation',
      'compression',
      'mountpoint',
      'mounted',
    ]);
    assert.equal(rows.length, 8);
    assert.equal(rows.find((r) => r.name === 'tstripe/ds')?.quota, '100M');
  },
  'zpool_upgrade_-v.txt': (t) => {
    const caps = capabilitiesFrom({ zpool: true, answers: true, upgradeV: t, jsonStatus: false })!;
    assert.deepEqual(
      [caps.implementation, caps.poolVersion, caps.draid, caps.xattrSa],
      ['zfs-fuse', 23, false, false],
    );
    assert.ok(!caps.compression.includes('lz4') && caps.compression.includes('zle'));
    const openzfs = capabilitiesFrom({
      zpool: true,
      answers: true,
      upgradeV: 'This system supports ZFS pool feature flags.\n draid\n zstd_compress',
      jsonStatus: true,
    })!;
    assert.deepEqual(
      [openzfs.implementation, openzfs.draid, openzfs.compression.includes('zstd')],
      ['openzfs', true, true],
    );
  },
  'zpool_binary_status_format_strings.txt': (t) => {
    // the printf formats zfs-fuse's zpool uses for the scan line, filled in the way it fills them
    assert.match(t, /%s in progress for %lluh%um, %.2f%% done, %lluh%um to go/);
    const inProgress = parseScan('scrub in progress for 1h25m, 42.00% done, 2h0m to go');
    assert.deepEqual([inProgress.percentDone, inProgress.etaSeconds], [42, 7200]);
    const done = parseScan('resilver completed after 0h1m with 3 errors on Sun Dec  6 09:21:27 2026');
    assert.deepEqual([done.kind, done.state, done.errors], ['resilver', 'finished', 3]);
  },
};

// Recorded command outputs with nothing to parse (errors, usage texts, daemon notes), checked for what
// grim does with them: they hold no pools, and the create/error texts are what scripts pass on.
const fuseNoPools = [
  '01_zpool_create_mirror.txt',
  '02_zpool_create_raidz1.txt',
  '03_zpool_create_raidz2.txt',
  '04_zpool_create_striped_mirrors_log_cache_spare.txt',
  '10_zfs_create.txt',
  '11_zfs_quota_enforced.txt',
  '21_zpool_iostat_-v.txt',
  '22_zpool_history.txt',
  '23_zpool_create_errors.txt',
  '25_zfs_destroy_snapshot.txt',
  '25_zfs_rollback.txt',
  '27_daemon_restart.txt',
  '31_namespace_two_nodes_same_poolname.txt',
  '32_fs_semantics_for_weed_volume.txt',
  'zfs_upgrade_-v.txt',
  'zfs_usage.txt',
  'zpool_usage.txt',
  'zfs-fuse_version.txt',
];
const notOutputs = ['README.md', 'SOURCES.json', 'ns-test.sh', 'ns-two.sh'];

test('every zfs fixture is covered and parses as recorded', { skip: missing || false }, () => {
  for (const f of readdirSync(zfsDir)) {
    if (notOutputs.includes(f)) continue;
    assert.ok(zfsChecks[f], `fixture ${f} has no parser test`);
    try {
      zfsChecks[f](read(zfsDir, f));
    } catch (err) {
      throw new Error(`${f}: ${(err as Error).message}`, { cause: err });
    }
  }
});

test('every zfs-fuse fixture is covered and parses as recorded', { skip: missing || false }, () => {
  for (const f of readdirSync(fuseDir)) {
    if (notOutputs.includes(f)) continue;
    if (fuseNoPools.includes(f)) {
      assert.deepEqual(parseZpoolStatusText(read(fuseDir, f)), [], `${f} holds no pool status`);
      continue;
    }
    assert.ok(fuseChecks[f], `fixture ${f} has no parser test`);
    try {
      fuseChecks[f](read(fuseDir, f));
    } catch (err) {
      throw new Error(`${f}: ${(err as Error).message}`, { cause: err });
    }
  }
});

test(
  'health events from recorded outputs: offline → DEGRADED, errors grow, resilver finishes',
  { skip: missing || false },
  () => {
    const list = parseZpoolList(read(fuseDir, '07_zpool_list_-H_o.txt'), [
      'name',
      'size',
      'allocated',
      'free',
      'capacity',
      'dedupratio',
      'health',
      'guid',
      'altroot',
    ]);
    const at = (f: string) =>
      parseZpoolStatusText(read(fuseDir, f))
        .slice(0, 1)
        .map((p) =>
          summarize(
            p,
            list.find((l) => l.name === p.name),
          ),
        );
    const online = at('14_zpool_scrub_status_after.txt');
    const degraded = at('15_zpool_offline_status_degraded.txt');
    const events = healthEvents(online, degraded);
    // the two recordings are also two different scrubs (09:21:17 and 09:21:22): that one is reported too
    assert.deepEqual(
      events.map((e) => [e.kind, e.severity]),
      [
        ['state-changed', 'warning'],
        ['scrub-finished', 'info'],
      ],
    );
    assert.match(events[0].message, /ONLINE -> DEGRADED .*d07\.img OFFLINE/);
    const back = healthEvents(degraded, at('16_zpool_replace_status_after.txt'));
    assert.deepEqual(
      back.map((e) => e.kind),
      ['state-changed', 'resilver-finished'],
    );
    const clean = parseZpoolStatusText(read(fuseDir, '05_zpool_status.txt')).map((p) =>
      summarize(
        p,
        list.find((l) => l.name === p.name),
      ),
    );
    const corrupt = parseZpoolStatusText(read(fuseDir, '17_zpool_scrub_cksum_errors.txt')).map((p) =>
      summarize(p, undefined),
    );
    const kinds = healthEvents(
      clean.filter((p) => p.name === 'tmir'),
      corrupt,
    ).map((e) => e.kind);
    assert.deepEqual(kinds, ['errors-increased', 'scrub-found-errors']);
    // traidz2 at 72 % in the later listing: below 80, no capacity event; 85 % and 95 % cross the bands
    const full = (pct: number) => [{ ...online[0], capacityPercent: pct }];
    assert.deepEqual(
      healthEvents(full(72), full(85)).map((e) => e.kind),
      ['capacity-80'],
    );
    assert.deepEqual(
      healthEvents(full(85), full(95)).map((e) => e.kind),
      ['capacity-90'],
    );
    assert.deepEqual(
      healthEvents(full(95), full(50)).map((e) => e.kind),
      ['capacity-ok'],
    );
  },
);
