import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRawSample } from '../../src/domain/metrics/raw-sample.ts';

const SCRIPT = new URL('../../scripts/node/metrics.sh', import.meta.url).pathname;
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

/** A PATH where awk, df, date, sed, tail, head, base64, wc and tr are busybox applets (as on Alpine). */
function busyboxPath(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'grim-bb-'));
  for (const applet of ['awk', 'df', 'date', 'sed', 'tail', 'head', 'base64', 'wc', 'tr'])
    symlinkSync(BUSYBOX!, join(dir, applet));
  return { path: `${dir}:${process.env.PATH}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const shells: { name: string; run: (env: NodeJS.ProcessEnv) => string }[] = [
  { name: 'dash', run: (env) => execFileSync('dash', [SCRIPT], { env, encoding: 'utf8' }) },
];
if (BUSYBOX) {
  shells.push({
    name: 'busybox ash + busybox awk/df/date',
    run: (env) => {
      const bb = busyboxPath();
      try {
        return execFileSync(BUSYBOX, ['sh', SCRIPT], { env: { ...env, PATH: bb.path }, encoding: 'utf8' });
      } finally {
        bb.cleanup();
      }
    },
  });
} else {
  console.log('# busybox not installed: the busybox ash variant of metrics.sh is not exercised');
}

const meminfoKb = (key: string): number =>
  Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]);

for (const sh of shells) {
  test(`metrics.sh under ${sh.name} prints a valid sample of this machine`, () => {
    const out = sh.run({ ...process.env, INSTANCE_CGROUPS: '/\n/grim-no-such-cgroup-xyz\n../etc\n' });
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 1, 'exactly one output line');
    const s = parseRawSample(out);

    assert.equal(s.bootId, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    assert.ok(Math.abs(s.ts - Date.now()) < 60_000, `ts ${s.ts} is near now`);
    assert.ok(s.uptime > 0);
    assert.equal(Object.keys(s.cpus).length, cpus().length, 'one entry per core');
    assert.ok(s.cpu.reduce((a, b) => a + b, 0) > 0);
    assert.equal(s.mem.totalBytes, meminfoKb('MemTotal') * 1024);
    assert.ok(s.mem.availableBytes > 0 && s.mem.availableBytes <= s.mem.totalBytes);

    const root = s.fs.find((f) => f.mount === '/');
    assert.ok(root, `root filesystem listed: ${JSON.stringify(s.fs)}`);
    assert.ok(root.sizeBytes > 0 && root.usedBytes > 0);
    for (const f of s.fs) {
      assert.ok(
        !['tmpfs', 'proc', 'sysfs', 'devtmpfs', 'cgroup', 'cgroup2', 'overlay'].includes(f.type),
        f.type,
      );
      assert.doesNotMatch(f.mount, /^\/(proc|sys|dev|run)(\/|$)/);
    }

    const physical = readdirSync('/sys/block').filter((d) => existsSync(`/sys/block/${d}/device`));
    assert.deepEqual(s.disks.map((d) => d.dev).sort(), physical.map((d) => d.replace(/!/g, '/')).sort());

    const ifaces = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0].trim())
      .filter((n) => n !== '' && n !== 'lo');
    assert.deepEqual(s.net.map((n) => n.name).sort(), ifaces.sort());

    assert.equal(s.cgroups.length, 3);
    const [rootCg, missing, invalid] = s.cgroups;
    assert.ok(rootCg.found && rootCg.cpuUsec > 0, `root cgroup readable: ${JSON.stringify(rootCg)}`);
    assert.deepEqual(missing, { path: '/grim-no-such-cgroup-xyz', found: false, error: 'not found' });
    assert.deepEqual(invalid, { path: '../etc', found: false, error: 'invalid path' });
  });
}

test('metrics.sh is shellcheck-clean', (t) => {
  const r = spawnSync('shellcheck', ['-s', 'sh', SCRIPT], { encoding: 'utf8' });
  if (r.error) return t.skip('shellcheck not installed');
  assert.equal(r.status, 0, r.stdout);
});

for (const sh of shells) {
  test(`metrics.sh under ${sh.name}: VMM metrics files from grim's offsets, byte for byte`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'grim-vmm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'metrics.ndjson');
    const l1 = '{"utc_timestamp_ms":1,"net":{"rx_bytes_count":5}}\n';
    const l2 = '{"utc_timestamp_ms":2,"note":"quote \\" back\\\\slash"}\n';
    writeFileSync(file, l1 + l2 + '{"utc_tim');
    const s = parseRawSample(
      sh.run({
        ...process.env,
        VMM_METRICS: `0 ${file}\n${l1.length} ${file}\n999999 ${file}\n0 ${dir}/gone\n0 ${dir}/a b\n0 ${dir}/../x`,
      }),
    );
    const size = Buffer.byteLength(l1 + l2 + '{"utc_tim');
    assert.deepEqual(s.vmm, [
      { path: file, found: true, size, from: 0, text: l1 + l2 + '{"utc_tim' },
      { path: file, found: true, size, from: l1.length, text: l2 + '{"utc_tim' },
      { path: file, found: true, size, from: 0, text: l1 + l2 + '{"utc_tim' }, // shorter than the offset: recreated
      { path: `${dir}/gone`, found: false, error: 'not found' },
      { path: 'invalid', found: false, error: 'invalid path' },
      { path: 'invalid', found: false, error: 'invalid path' },
    ]);
  });
}
