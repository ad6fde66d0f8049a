/**
 * Layer application with whiteouts: the TS unpacker (src/oci/unpack.ts) and scripts/node/oci-unpack.sh under
 * dash (+ GNU tar) and busybox sh (+ busybox applets only, like Alpine) must produce identical trees from the
 * same crafted layers, be idempotent, and reject unsafe layers without touching anything outside the rootfs.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { scriptFor } from '../../src/scripts/loader.ts';
import { planLayer } from '../../src/oci/layer-plan.ts';
import { listLayer, unpackLayer } from '../helpers/oci-unpack.ts';
import { tarDirectory, writeTar, type TarSpec } from '../helpers/oci-image.ts';

/** The script as nodes get it (its `# lib:` helpers inlined by the loader), as a file for dash and busybox. */
const SCRIPT = join(mkdtempSync(join(tmpdir(), 'grim-oci-unpack-')), 'oci-unpack.sh');
writeFileSync(SCRIPT, scriptFor('oci-unpack').body);
process.on('exit', () => rmSync(dirname(SCRIPT), { recursive: true, force: true }));
const BUSYBOX = '/bin/busybox';

type Impl = 'ts' | 'dash' | 'busybox';
const hasDash = existsSync('/usr/bin/dash') || existsSync('/bin/dash');
const hasBusybox = existsSync(BUSYBOX);
const IMPLS: Impl[] = [
  'ts',
  ...(hasDash ? (['dash'] as const) : []),
  ...(hasBusybox ? (['busybox'] as const) : []),
];
if (!hasDash) console.log('# dash not installed: sh unpacker not tested under dash');
if (!hasBusybox) console.log('# busybox not installed: sh unpacker not tested under busybox');

let work: string;
let bbPath: string;

interface Layer {
  path: string;
  media: 'gzip' | 'none';
}

function writeLayer(name: string, specs: TarSpec[] | Buffer, media: 'gzip' | 'none'): Layer {
  const tar = Buffer.isBuffer(specs) ? specs : writeTar(specs);
  const path = join(work, `${name}.tar${media === 'gzip' ? '.gz' : ''}`);
  writeFileSync(path, media === 'gzip' ? gzipSync(tar) : tar);
  return { path, media };
}

interface Outcome {
  ok: boolean;
  error?: string;
}

async function apply(impl: Impl, rootfs: string, layer: Layer): Promise<Outcome> {
  if (impl === 'ts') {
    try {
      await unpackLayer(rootfs, layer.path, { compression: layer.media });
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
  const [cmd, args, path] =
    impl === 'dash' ? ['dash', [SCRIPT], process.env.PATH] : [BUSYBOX, ['sh', SCRIPT], bbPath];
  const res = spawnSync(cmd, args, {
    env: { PATH: path, ROOTFS: rootfs, LAYER: layer.path, LAYER_MEDIA: layer.media },
    encoding: 'utf8',
  });
  const last = res.stdout.trim().split('\n').at(-1) ?? '';
  let result: { ok: boolean; error?: string };
  try {
    result = JSON.parse(last);
  } catch {
    throw new Error(`${impl}: last line is not JSON: ${JSON.stringify(res.stdout)} stderr=${res.stderr}`);
  }
  assert.equal(res.status === 0, result.ok, `${impl}: exit status ${res.status} vs ok=${result.ok}`);
  return result;
}

/** Everything observable about a tree: type, mode, owner, content / link target, hard-link groups. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const abs = rel ? join(root, rel) : root;
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    let desc: string;
    if (st.isSymbolicLink()) desc = `symlink -> ${readlinkSync(abs)}`;
    else if (st.isDirectory()) desc = `dir ${mode}`;
    else if (st.isFIFO()) desc = `fifo ${mode}`;
    else {
      const first = inodes.get(st.ino);
      if (first === undefined) inodes.set(st.ino, rel);
      desc = `file ${mode} ${JSON.stringify(readFileSync(abs, 'utf8'))}${first !== undefined ? ` hardlink-of ${first}` : ''}`;
    }
    out[rel || '.'] = `${desc} ${st.uid}:${st.gid}`;
    if (st.isDirectory() && !st.isSymbolicLink()) {
      for (const name of readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name);
    }
  };
  walk('');
  return out;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'grim-oci-unpack-'));
  bbPath = join(work, 'bb-bin');
  mkdirSync(bbPath);
  if (hasBusybox) execFileSync(BUSYBOX, ['--install', '-s', bbPath]);
});
after(() => rmSync(work, { recursive: true, force: true }));

const L1: TarSpec[] = [
  { name: './', type: 'dir', mode: 0o755 },
  { name: './bin/', type: 'dir' },
  { name: './bin/tool', content: 'tool binary', mode: 0o755 },
  { name: './bin/sh', type: 'symlink', linkname: 'tool' },
  { name: './bin/alias', type: 'hardlink', linkname: './bin/tool' },
  { name: './etc/', type: 'dir' },
  { name: './etc/passwd', content: 'root:x:0:0\n' },
  { name: './etc/shadow', content: 'secret\n', mode: 0o640, gid: 42 },
  { name: './etc/gone', content: 'deleted in layer 2\n' },
  { name: './etc/sub/', type: 'dir' },
  { name: './etc/sub/a', content: 'a\n' },
  { name: './etc/sub/deep/', type: 'dir', mode: 0o750 },
  { name: './etc/sub/deep/b', content: 'b\n' },
  { name: './etc/sub/deep/c', content: 'c\n' },
  { name: './opq/', type: 'dir' },
  { name: './opq/old', content: 'old\n' },
  { name: './opq/.hidden', content: 'hidden\n' },
  { name: './opq/olddir/', type: 'dir' },
  { name: './opq/olddir/x', content: 'x\n' },
  { name: './usr/', type: 'dir' },
  { name: './usr/bin/', type: 'dir' },
  { name: './usr/bin/su', content: 'su\n', mode: 0o4755 },
  { name: './usr/lib/', type: 'dir' },
  { name: './usr/lib/libc.so', content: 'libc\n' },
  { name: './lib', type: 'symlink', linkname: 'usr/lib' },
  { name: './abs', type: 'symlink', linkname: '/etc' },
  { name: './private/', type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
  { name: './private/key', content: 'k\n', mode: 0o600, uid: 1000, gid: 1000 },
  { name: './swap', content: 'file in layer 1\n' },
  { name: './dir2file/', type: 'dir' },
  { name: './dir2file/child', content: 'child\n' },
  { name: './link2dir', type: 'symlink', linkname: 'usr' },
  { name: './fifo', type: 'fifo', mode: 0o600 },
];

const L2: TarSpec[] = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/.wh.gone' },
  { name: 'etc/.wh.never-existed' },
  { name: 'etc/passwd', content: 'root:x:0:0\nuser:x:1000:1000\n' },
  { name: 'etc/passwd-link', type: 'hardlink', linkname: 'etc/passwd' },
  { name: 'etc/shadow-link', type: 'hardlink', linkname: 'etc/shadow' },
  { name: 'etc/sub/', type: 'dir' },
  { name: 'etc/sub/deep/', type: 'dir', mode: 0o750 },
  { name: 'etc/sub/deep/.wh.b' },
  { name: 'opq/', type: 'dir', mode: 0o711 },
  { name: 'opq/new', content: 'new, listed before the opaque marker\n' },
  { name: 'opq/.wh..wh..opq' },
  { name: 'opq/olddir/', type: 'dir' },
  { name: 'opq/olddir/y', content: 'y\n' },
  { name: 'lib/extra.so', content: 'through an inside symlink\n' },
  { name: 'swap/', type: 'dir' },
  { name: 'swap/inside', content: 'dir replaced the file\n' },
  { name: 'dir2file', content: 'file replaced the dir\n' },
  { name: 'link2dir/', type: 'dir' },
  { name: 'link2dir/own', content: 'dir replaced the symlink\n' },
  { name: 'private/', type: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
  { name: '.wh..wh.plnk/', type: 'dir' },
  { name: '.wh..wh.plnk/1234.5678', content: 'aufs hardlink store\n' },
];

describe('whiteouts: TS unpacker and oci-unpack.sh agree', () => {
  const results = new Map<Impl, Record<string, string>>();

  for (const impl of IMPLS) {
    test(`${impl}: two layers (gzip + plain) apply with whiteout semantics`, async () => {
      const l1 = writeLayer(`l1-${impl}`, L1, 'gzip');
      const l2 = writeLayer(`l2-${impl}`, L2, 'none');
      const root = join(work, `root-${impl}`);
      const l1Result = await apply(impl, root, l1);
      assert.deepEqual(
        l1Result,
        impl === 'ts' ? { ok: true } : { ok: true, entries: 33, whiteouts: 0, opaque: 0 },
      );
      const l2Result = await apply(impl, root, l2);
      assert.equal(l2Result.ok, true, l2Result.error);
      const snap = snapshot(root);
      results.set(impl, snap);

      assert.equal(existsSync(join(root, 'etc/gone')), false, 'whiteout deletes lower file');
      assert.equal(existsSync(join(root, 'etc/.wh.gone')), false, 'markers removed');
      assert.equal(existsSync(join(root, 'opq/.wh..wh..opq')), false);
      assert.equal(existsSync(join(root, '.wh..wh.plnk')), false, 'aufs metadata never extracted');
      assert.equal(snap['etc/sub/deep'], 'dir 750 0:0', 'nested whiteout keeps the directory');
      assert.equal(existsSync(join(root, 'etc/sub/deep/b')), false, 'nested whiteout');
      assert.equal(existsSync(join(root, 'etc/sub/deep/c')), true);
      assert.equal(existsSync(join(root, 'etc/sub/a')), true);
      assert.deepEqual(
        readdirSync(join(root, 'opq')).sort(),
        ['new', 'olddir'],
        'opaque dir keeps only this layer',
      );
      assert.deepEqual(readdirSync(join(root, 'opq/olddir')), ['y']);
      assert.equal(snap.opq, 'dir 711 0:0');
      assert.match(snap['etc/passwd-link'], /user:x:1000.*hardlink-of etc\/passwd/);
      assert.match(snap['etc/shadow-link'], /^file 640 "secret\\n" hardlink-of etc\/shadow 0:42$/);
      assert.match(snap['bin/tool'], /^file 755 "tool binary" hardlink-of bin\/alias/);
      assert.equal(snap['bin/sh'], 'symlink -> tool 0:0');
      assert.equal(snap.abs, 'symlink -> /etc 0:0');
      assert.equal(snap['usr/bin/su'], 'file 4755 "su\\n" 0:0', 'setuid kept');
      assert.equal(readFileSync(join(root, 'usr/lib/extra.so'), 'utf8'), 'through an inside symlink\n');
      assert.equal(snap.lib, 'symlink -> usr/lib 0:0');
      assert.match(snap['swap'], /^dir /);
      assert.match(snap['dir2file'], /^file 644 "file replaced the dir/);
      assert.match(snap['link2dir'], /^dir /, 'a directory entry replaces a lower symlink');
      assert.equal(existsSync(join(root, 'usr/own')), false, 'nothing written through the replaced symlink');
      assert.equal(snap.private, 'dir 750 1000:1000', 'existing dir metadata updated');
      assert.equal(snap['private/key'], 'file 600 "k\\n" 1000:1000');
      assert.equal(snap.fifo, 'fifo 600 0:0');

      const again = await apply(impl, root, l2);
      assert.equal(again.ok, true, again.error);
      assert.deepEqual(snapshot(root), snap, 're-applying the layer changes nothing');
    });
  }

  test(
    'all implementations produce the same tree',
    { skip: IMPLS.length < 2 ? 'only one implementation available' : false },
    () => {
      const [first, ...rest] = IMPLS;
      for (const impl of rest) assert.deepEqual(results.get(impl), results.get(first), `${impl} vs ${first}`);
    },
  );
});

describe('layers made by the system tar (pax long names, odd characters)', () => {
  for (const impl of IMPLS) {
    test(`${impl}: long names and backslashes survive`, async () => {
      const src = join(work, `src-${impl}`);
      const long = join('a'.repeat(60), 'b'.repeat(60), 'c'.repeat(40));
      mkdirSync(join(src, long), { recursive: true });
      writeFileSync(join(src, long, 'file-with-a-long-name.txt'), 'long\n');
      mkdirSync(join(src, 'systemd'));
      writeFileSync(join(src, 'systemd', 'dev-disk-by\\x2dlabel.swap'), 'escaped\n');
      writeFileSync(join(src, 'systemd', 'ünïcode name'), 'utf8\n');
      symlinkSync('dev-disk-by\\x2dlabel.swap', join(src, 'systemd', 'alias.swap'));
      const tarPax = execFileSync('tar', ['--format=pax', '-C', src, '-cf', '-', '.']);
      const root = join(work, `sys-${impl}`);
      const result = await apply(impl, root, writeLayer(`sys-${impl}`, tarPax, 'none'));
      assert.equal(result.ok, true, result.error);
      assert.equal(readFileSync(join(root, long, 'file-with-a-long-name.txt'), 'utf8'), 'long\n');
      assert.equal(readFileSync(join(root, 'systemd', 'dev-disk-by\\x2dlabel.swap'), 'utf8'), 'escaped\n');
      assert.equal(readFileSync(join(root, 'systemd', 'ünïcode name'), 'utf8'), 'utf8\n');
      assert.equal(readlinkSync(join(root, 'systemd', 'alias.swap')), 'dev-disk-by\\x2dlabel.swap');
      const gnu = tarDirectory(src);
      const root2 = join(work, `sys-gnu-${impl}`);
      assert.equal((await apply(impl, root2, writeLayer(`sys-gnu-${impl}`, gnu, 'none'))).ok, true);
      assert.deepEqual(snapshot(root2), snapshot(root));
    });
  }

  test('tar reader sees pax and GNU long names identically', async () => {
    const src = join(work, 'src-ts');
    const pax = writeLayer(
      'pax',
      execFileSync('tar', ['--format=pax', '--sort=name', '-C', src, '-cf', '-', '.']),
      'none',
    );
    const gnu = writeLayer(
      'gnu',
      execFileSync('tar', ['--format=gnu', '--sort=name', '-C', src, '-cf', '-', '.']),
      'none',
    );
    assert.deepEqual(await listLayer(pax.path, 'none'), await listLayer(gnu.path, 'none'));
  });
});

describe('unsafe layers are rejected before anything is touched', () => {
  const cases: { name: string; lower?: TarSpec[]; layer: TarSpec[]; error: RegExp }[] = [
    {
      name: 'dotdot',
      layer: [{ name: 'ok' }, { name: '../escape', content: 'x' }],
      error: /"\.\." component/,
    },
    { name: 'nested-dotdot', layer: [{ name: 'a/../../escape', content: 'x' }], error: /"\.\." component/ },
    { name: 'trailing-dotdot', layer: [{ name: 'a/..', type: 'dir' }], error: /"\.\." component/ },
    { name: 'absolute', layer: [{ name: '/etc/escape', content: 'x' }], error: /absolute path/ },
    {
      name: 'hardlink-absolute',
      layer: [{ name: 'h', type: 'hardlink', linkname: '/etc/passwd' }],
      error: /absolute path/,
    },
    {
      name: 'below-own-symlink',
      layer: [
        { name: 'esc', type: 'symlink', linkname: '@VICTIM@' },
        { name: 'esc/pwned', content: 'x' },
      ],
      error: /below symlink "esc" of the same layer/,
    },
    {
      name: 'through-lower-symlink',
      lower: [{ name: 'esc', type: 'symlink', linkname: '@VICTIM@' }],
      layer: [{ name: 'esc/pwned', content: 'x' }],
      error: /esc\/pwned: parent esc resolves outside the rootfs/,
    },
    {
      name: 'whiteout-through-lower-symlink',
      lower: [{ name: 'esc', type: 'symlink', linkname: '@VICTIM@' }],
      layer: [{ name: 'esc/.wh.precious' }],
      error: /esc\/precious: parent esc resolves outside the rootfs/,
    },
    {
      name: 'relative-escape-symlink',
      lower: [{ name: 'up', type: 'symlink', linkname: '../../../../../../../../../../..@VICTIM@' }],
      layer: [{ name: 'up/pwned', content: 'x' }],
      error: /parent up resolves outside the rootfs/,
    },
    {
      name: 'hardlink-dotdot',
      layer: [{ name: 'h', type: 'hardlink', linkname: '../../etc/shadow' }],
      error: /"\.\." component/,
    },
    {
      name: 'hardlink-through-lower-symlink',
      lower: [{ name: 'esc', type: 'symlink', linkname: '@VICTIM@' }],
      layer: [{ name: 'h', type: 'hardlink', linkname: 'esc/precious' }],
      error: /esc\/precious: parent esc resolves outside the rootfs/,
    },
    { name: 'empty-whiteout', layer: [{ name: 'dir/.wh.' }], error: /whiteout without a valid target/ },
  ];

  for (const impl of IMPLS) {
    for (const c of cases) {
      test(`${impl}: ${c.name}`, async () => {
        const victim = join(work, `victim-${impl}-${c.name}`);
        mkdirSync(victim);
        writeFileSync(join(victim, 'precious'), 'keep me\n');
        const fix = (specs: TarSpec[]) =>
          specs.map((s) => ({ ...s, linkname: s.linkname?.replace('@VICTIM@', victim) }));
        const root = join(work, `unsafe-${impl}-${c.name}`);
        if (c.lower)
          assert.equal(
            (await apply(impl, root, writeLayer(`lower-${impl}-${c.name}`, fix(c.lower), 'none'))).ok,
            true,
          );
        mkdirSync(root, { recursive: true });
        const before = snapshot(root);
        const result = await apply(impl, root, writeLayer(`unsafe-${impl}-${c.name}`, fix(c.layer), 'gzip'));
        assert.equal(result.ok, false);
        assert.match(result.error ?? '', c.error);
        assert.deepEqual(readdirSync(victim), ['precious'], 'nothing written outside the rootfs');
        assert.equal(readFileSync(join(victim, 'precious'), 'utf8'), 'keep me\n');
        assert.deepEqual(snapshot(root), before, 'rootfs untouched');
        assert.equal(existsSync(join(work, 'escape')), false);
      });
    }
  }
});

test('planner: markers, deletions, opaque dirs, normalization', () => {
  const plan = planLayer([
    { name: './', type: 'dir' },
    { name: './a//b/./c', type: 'file' },
    { name: 'a/.wh.x', type: 'file' },
    { name: '.wh..wh..opq', type: 'file' },
    { name: 'd/.wh..wh..opq', type: 'file' },
    { name: 'h', type: 'hardlink', linkname: './a/b/c' },
  ]);
  assert.deepEqual(plan.deletions, ['a/x']);
  assert.deepEqual(plan.opaqueDirs, ['', 'd']);
  assert.deepEqual(plan.markers, ['a/.wh.x', '.wh..wh..opq', 'd/.wh..wh..opq']);
  assert.deepEqual(
    plan.entries.map((e) => [e.path, e.type, e.linkTarget]),
    [
      ['', 'dir', undefined],
      ['a/b/c', 'file', undefined],
      ['h', 'hardlink', 'a/b/c'],
    ],
  );
  assert.throws(() => planLayer([{ name: 'a\nb', type: 'file' }]), /newline, tab or NUL/);
});

test('sh script reports parameter errors as JSON', { skip: hasDash ? false : 'dash not installed' }, () => {
  const res = spawnSync('dash', [SCRIPT], {
    env: { PATH: process.env.PATH, ROOTFS: join(work, 'x'), LAYER: '/nonexistent', LAYER_MEDIA: 'zstd' },
    encoding: 'utf8',
  });
  assert.equal(res.status, 1);
  assert.deepEqual(JSON.parse(res.stdout.trim()), {
    ok: false,
    error: "LAYER_MEDIA must be gzip or none, got 'zstd'",
  });
  const res2 = spawnSync('dash', [SCRIPT], {
    env: { PATH: process.env.PATH, ROOTFS: join(work, 'x'), LAYER: '/nonexistent', LAYER_MEDIA: 'gzip' },
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(res2.stdout.trim()), {
    ok: false,
    error: 'layer file not found: /nonexistent',
  });
  const corrupt = join(work, 'corrupt.tar');
  writeFileSync(corrupt, 'not a tar at all'.repeat(100));
  const res3 = spawnSync('dash', [SCRIPT], {
    env: { PATH: process.env.PATH, ROOTFS: join(work, 'x'), LAYER: corrupt, LAYER_MEDIA: 'none' },
    encoding: 'utf8',
  });
  assert.equal(res3.status, 1);
  assert.match(JSON.parse(res3.stdout.trim()).error, /cannot list layer/);
});
