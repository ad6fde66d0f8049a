// Uploads over one SSH channel each (src/ssh/upload.ts + scripts/node/file-receive.sh) against a real OpenSSH
// server on 127.0.0.1: bytes arrive whole, a wrong checksum leaves nothing behind, bad paths are refused.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { SshPool, type SshTarget } from '../../src/ssh/pool.ts';
import { uploadFile } from '../../src/ssh/upload.ts';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../helpers/sshd.ts';

const skip = sshdUnavailableReason();
if (skip && process.env.CI) throw new Error(`CI must run the upload tests: ${skip}`);
let sshd: TestSshd;
let pool: SshPool;
let target: SshTarget;
// The server runs on this machine: the files land in a directory of our own under /var/lib/grim, removed after.
const dir = `/var/lib/grim/test-upload-${randomBytes(4).toString('hex')}`;

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  pool = new SshPool({ privateKey: sshd.clientPrivateKey });
  target = {
    nodeId: 'upload-node',
    address: sshd.address,
    port: sshd.port,
    user: sshd.user,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
  };
});
after(async () => {
  pool?.close();
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a buffer and a stream arrive whole, with their mode, in one channel each', { skip }, async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  assert.deepEqual(await uploadFile(pool, target, `${dir}/a.bin`, data, { mode: 0o640 }), {
    bytes: data.length,
  });
  assert.equal(sha(readFileSync(`${dir}/a.bin`)), sha(data));
  assert.equal(statSync(`${dir}/a.bin`).mode & 0o777, 0o640);
  const chunks = Array.from({ length: 40 }, () => randomBytes(64 * 1024));
  const whole = Buffer.concat(chunks);
  await uploadFile(pool, target, `${dir}/b.bin`, Readable.from(chunks), { sha256: `sha256:${sha(whole)}` });
  assert.ok(readFileSync(`${dir}/b.bin`).equals(whole));
  // Again over the same path: replaced atomically, no temporary file left.
  await uploadFile(pool, target, `${dir}/b.bin`, Buffer.from('small'));
  assert.equal(readFileSync(`${dir}/b.bin`, 'utf8'), 'small');
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.bin']);
});

test('a checksum mismatch fails and leaves nothing behind; bad paths are refused', { skip }, async () => {
  await assert.rejects(
    uploadFile(pool, target, `${dir}/c.bin`, Buffer.from('hello'), { sha256: sha(Buffer.from('other')) }),
    /checksum mismatch/,
  );
  assert.ok(!existsSync(`${dir}/c.bin`));
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('c.bin')),
    [],
  );
  await assert.rejects(
    uploadFile(pool, target, '/tmp/x', Buffer.from('x')),
    /must be under \/var\/lib\/grim/,
  );
  await assert.rejects(
    uploadFile(pool, target, `${dir}/../escape`, Buffer.from('x')),
    /must not contain \.\./,
  );
});
