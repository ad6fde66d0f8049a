// SeaweedFS releases by URL: grim downloads a release tarball from a loopback HTTP server, checks upstream's
// .md5 when published, records the binary's SHA-256 itself, and refuses a wrong checksum without recording
// anything. On the node, weed-install.sh (run for real in a private mount namespace, so /opt and /var/lib/grim
// of this machine are untouched) installs a verified binary and switches the symlink, refuses a staged binary
// whose SHA-256 differs from grim's record without switching, and rolls back in one step.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp } from '../helpers/app.ts';
import { cliEnv, grim, startGrimServer } from '../helpers/grim-process.ts';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** A release tarball as upstream ships it (linux_amd64.tar.gz holding `weed`). */
function tarball(dir: string, content: string): { tgz: Buffer; weed: string } {
  const d = mkdtempSync(join(dir, 'rel-'));
  writeFileSync(join(d, 'weed'), content, { mode: 0o755 });
  const r = spawnSync('tar', ['-czf', '-', '-C', d, 'weed']);
  assert.equal(r.status, 0, String(r.stderr));
  return { tgz: r.stdout, weed: content };
}

/** A loopback HTTP server with release tarballs: /good/ (with its .md5), /badmd5/ (a wrong .md5). */
async function releaseServer(t: TestContext) {
  const tmp = mkdtempSync(join(tmpdir(), 'grim-weed-rel-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const good = tarball(tmp, '#!/bin/sh\necho "version 4.48 test build"\n');
  const files = new Map<string, Buffer | string>([
    ['/good/linux_amd64.tar.gz', good.tgz],
    ['/good/linux_amd64.tar.gz.md5', `${md5(good.tgz)}  linux_amd64.tar.gz\n`],
    ['/badmd5/linux_amd64.tar.gz', good.tgz],
    ['/badmd5/linux_amd64.tar.gz.md5', `${'0'.repeat(32)}  linux_amd64.tar.gz\n`],
  ]);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return { good, requests, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a SeaweedFS release installed by URL: SHA-256 recorded by grim, a wrong checksum refused', async (t) => {
  const { good, requests, base } = await releaseServer(t);
  const a = await startTestApp(t);
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  const versions = async () =>
    (await call('GET', '/api/storage/releases')).json.releases.map((r: any) => r.version);

  const ok = await call('POST', '/api/storage/releases', {
    version: '4.48',
    url: `${base}/good/linux_amd64.tar.gz`,
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(ok.json.release.sha256, sha256(good.weed), 'grim computed the SHA-256 of the binary itself');
  assert.ok(requests.includes('/good/linux_amd64.tar.gz.md5'), "upstream's MD5 was checked");
  const stored = await a.services.seaweedfs.releases.verifiedBinary('4.48');
  assert.equal(readFileSync(stored.path, 'utf8'), good.weed);

  // the admin's expected SHA-256 disagrees: refused, nothing recorded
  const wrongSha = await call('POST', '/api/storage/releases', {
    version: '4.49',
    url: `${base}/good/linux_amd64.tar.gz`,
    sha256: 'a'.repeat(64),
  });
  assert.equal(wrongSha.status, 400, JSON.stringify(wrongSha.json));
  assert.match(wrongSha.json.error.details[0].message, new RegExp(`the binary has ${sha256(good.weed)}`));
  // upstream's MD5 disagrees with the download: refused
  const wrongMd5 = await call('POST', '/api/storage/releases', {
    version: '4.50',
    url: `${base}/badmd5/linux_amd64.tar.gz`,
  });
  assert.equal(wrongMd5.status, 400, JSON.stringify(wrongMd5.json));
  assert.match(wrongMd5.json.error.details[0].message, /upstream MD5 0{32}/);
  const missing = await call('POST', '/api/storage/releases', {
    version: '4.51',
    url: `${base}/nope/linux_amd64.tar.gz`,
  });
  assert.equal(missing.status, 400);
  assert.deepEqual(await versions(), ['4.48']);
  assert.ok(!existsSync(join(a.dataDir, 'seaweedfs', 'releases', '4.49')), 'nothing left of a refused one');

  // the stored binary changed after recording: it never leaves the control node
  writeFileSync(stored.path, '#!/bin/sh\necho tampered\n');
  await assert.rejects(a.services.seaweedfs.releases.verifiedBinary('4.48'), /differs from the recorded/);
});

test('weed-install.sh on a node: verified install switches the symlink, a wrong checksum switches nothing', () => {
  const script = readFileSync(join(SCRIPTS_DIR, 'node', 'weed-install.sh'), 'utf8');
  const v1 = '#!/bin/sh\necho v1\n';
  const v2 = '#!/bin/sh\necho v2\n';
  // a private mount namespace with empty /opt and /var/lib/grim: the script's real paths, nothing of the host's
  const sandbox = `
set -eu
mount -t tmpfs tmpfs /opt
mkdir -p /var/lib/grim && mount -t tmpfs tmpfs /var/lib/grim
s=/var/lib/grim/seaweedfs/staging
step() { printf '%s\\n' "$SCRIPT" > /tmp/weed-install.$$; rc=0; env "$@" sh /tmp/weed-install.$$ || rc=$?; rm -f /tmp/weed-install.$$; echo "rc=$rc link=$(readlink /opt/seaweedfs/weed)"; }
mkdir -p $s && printf '%s\\n' "$V1" > $s/weed-1
step VERSION=1.0 SHA256=${sha256(v1 + '\n')} STAGED=$s/weed-1
printf '%s\\n' "$V2" > $s/weed-2
step VERSION=2.0 SHA256=${sha256('#!/bin/sh\necho not-v2\n\n')} STAGED=$s/weed-2
echo "staged left: $(ls $s | wc -l); 2.0 installed: $(test -e /opt/seaweedfs/2.0/weed && echo yes || echo no)"
printf '%s\\n' "$V2" > $s/weed-2
step VERSION=2.0 SHA256=${sha256(v2 + '\n')} STAGED=$s/weed-2
step VERSION=1.0 SHA256=${sha256(v1 + '\n')}
`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', sandbox], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SCRIPT: script, V1: v1, V2: v2 },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `needs root (unshare, tmpfs mounts): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => /^rc=|^staged/.test(l));
  assert.equal(lines.length, 5, r.stdout + r.stderr);
  assert.match(lines[0], /^rc=0 link=\/opt\/seaweedfs\/1.0\/weed$/, 'installed and switched');
  assert.match(lines[1], /^rc=4 link=\/opt\/seaweedfs\/1.0\/weed$/, 'checksum mismatch: nothing switches');
  assert.equal(lines[2], 'staged left: 0; 2.0 installed: no', 'the bad binary is removed');
  assert.match(lines[3], /^rc=0 link=\/opt\/seaweedfs\/2.0\/weed$/);
  assert.match(lines[4], /^rc=0 link=\/opt\/seaweedfs\/1.0\/weed$/, 'rollback is one step');
  assert.match(r.stderr, /checksum mismatch: grim recorded/);
});

test('CLI: grim storage release add --url and list; cluster, bucket and key commands print every problem', async (t) => {
  const { good, base } = await releaseServer(t);
  const srv = await startGrimServer({ GRIM_ADMIN_PASSWORD: 'cli-weed-password' });
  t.after(() => srv.stop());
  const env = cliEnv();
  assert.equal(
    (await grim(['login', '--server', srv.url, '--password-stdin'], env, 'cli-weed-password\n')).code,
    0,
  );
  const added = await grim(
    ['storage', 'release', 'add', '4.48', '--url', `${base}/good/linux_amd64.tar.gz`],
    env,
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(
    added.stdout,
    new RegExp(`^recorded 4.48: sha256 ${sha256(good.weed)}, ${good.weed.length} bytes`),
  );
  const wrong = await grim(
    [
      'storage',
      'release',
      'add',
      '4.49',
      '--url',
      `${base}/good/linux_amd64.tar.gz`,
      '--sha256',
      'b'.repeat(64),
    ],
    env,
  );
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /release checksum mismatch .*HTTP 400[\s\S]*- body\/sha256: expected b{64}/);
  const listed = JSON.parse((await grim(['storage', 'release', 'list', '--json'], env)).stdout);
  assert.deepEqual(
    listed.releases.map((r: any) => [r.version, r.sha256, r.source]),
    [['4.48', sha256(good.weed), `${base}/good/linux_amd64.tar.gz`]],
  );

  assert.equal((await grim(['env', 'create', 'weedcli'], env)).code, 0);
  const create = await grim(
    [
      'storage',
      'cluster',
      'create',
      'weedcli',
      '--masters',
      'a,b',
      '--filers',
      'x',
      '--replication',
      '0x1',
      '--release',
      '9.9',
    ],
    env,
  );
  assert.equal(create.code, 1);
  for (const want of [
    '- body/masters: 1 master, or 3 or 5',
    '- body/masters: node a does not exist',
    '- body/filers: node x does not exist',
    '- body/replication',
    '- body/version: release 9.9 is not recorded',
  ])
    assert.ok(create.stderr.includes(want), `missing "${want}" in:\n${create.stderr}`);
  const bucket = await grim(['storage', 'bucket', 'create', '../Etc;rm', '--env', 'weedcli'], env);
  assert.equal(bucket.code, 1);
  assert.ok(
    bucket.stderr.split('\n').filter((l) => l.startsWith('  - body/name')).length >= 2,
    bucket.stderr,
  );
  const key = await grim(
    [
      'storage',
      'key',
      'create',
      'Bad_Name!',
      '--bucket',
      'x',
      '--actions',
      'Admin,Read,Read',
      '--env',
      'weedcli',
    ],
    env,
  );
  assert.equal(key.code, 1);
  for (const p of ['body/name', 'body/bucket', 'body/actions'])
    assert.ok(key.stderr.includes(`- ${p}:`), `missing ${p} in:\n${key.stderr}`);
});
