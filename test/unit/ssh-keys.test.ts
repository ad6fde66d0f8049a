import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import {
  fingerprintOfKeyBlob,
  fingerprintOfPublicKey,
  generateKeyPair,
  generateStoredKeyPair,
  isFingerprint,
  keyTypeOfBlob,
  publicKeyLineOfBlob,
  unsealPrivateKey,
} from '../../src/ssh/keys.ts';
import { loadMasterKey, masterKeyPath, openSecretBox, SecretBox } from '../../src/secrets/secret-box.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'grim-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('generateKeyPair: ed25519, OpenSSH formats, grim@host comment, fingerprint matches ssh-keygen', (t) => {
  const pair = generateKeyPair('ctl1');
  assert.match(pair.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  assert.match(pair.publicKey, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ grim@ctl1$/);
  assert.ok(isFingerprint(pair.fingerprint));
  const dir = tempDir(t);
  writeFileSync(join(dir, 'id'), pair.privateKey, { mode: 0o600 });
  // ssh-keygen derives the public key from our private key file: both halves must agree
  const derived = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'id')], { encoding: 'utf8' }).trim();
  assert.equal(derived.split(' ').slice(0, 2).join(' '), pair.publicKey.split(' ').slice(0, 2).join(' '));
  writeFileSync(join(dir, 'id.pub'), `${pair.publicKey}\n`);
  const listed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'id.pub')], {
    encoding: 'utf8',
  });
  assert.equal(listed.split(' ')[1], pair.fingerprint);
  assert.notEqual(generateKeyPair('ctl1').fingerprint, pair.fingerprint, 'each call makes a new key');
});

test('generateKeyPair: every key parses and signs (ssh2 own generator broke ~1 key in 300)', () => {
  // ssh2's generateKeyPairSync dropped a leading zero byte of the public key; such a key makes every
  // connection fail. 3000 keys catch a 1-in-300 fault with near certainty.
  for (let i = 0; i < 3000; i++) {
    const pair = generateKeyPair('ctl');
    const parsed = ssh2.utils.parseKey(pair.privateKey);
    if (parsed instanceof Error)
      assert.fail(`key ${i} does not parse: ${parsed.message}\n${pair.privateKey}`);
    const data = Buffer.from(`challenge ${i}`);
    assert.ok(parsed.verify(data, parsed.sign(data)), `key ${i} signs and verifies`);
    assert.equal(
      parsed.getPublicSSH().toString('base64'),
      pair.publicKey.split(' ')[1],
      `key ${i}: the public line matches the private key`,
    );
  }
});

test('host key fingerprints match ssh-keygen for ed25519, ecdsa and rsa keys', (t) => {
  const dir = tempDir(t);
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    const file = join(dir, `host_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
    const line = readFileSync(`${file}.pub`, 'utf8');
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], {
      encoding: 'utf8',
    }).split(' ')[1];
    assert.equal(fingerprintOfPublicKey(line), expected, type);
    const blob = Buffer.from(line.split(' ')[1], 'base64');
    assert.equal(fingerprintOfKeyBlob(blob), expected);
    assert.equal(keyTypeOfBlob(blob), line.split(' ')[0]);
    assert.equal(publicKeyLineOfBlob(blob), line.split(' ').slice(0, 2).join(' '));
  }
  assert.throws(() =>
    fingerprintOfPublicKey('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGN4QDrjRdsC+8zPpKCYWcoENXnCA1adEhLTRVBBnYUv'),
  );
});

test('SecretBox: round trip, and tampering, another key or another context is refused', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));
  const sealed = box.seal('top secret', 'ctx');
  assert.ok(!sealed.includes('top secret'));
  assert.equal(box.open(sealed, 'ctx').toString(), 'top secret');
  assert.notEqual(box.seal('top secret', 'ctx'), sealed, 'fresh IV each time');
  assert.throws(() => box.open(sealed, 'other'), /cannot decrypt/);
  assert.throws(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, 'ctx'), /cannot decrypt/);
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[raw.length - 1] ^= 1;
  assert.throws(() => box.open(`v1:${raw.toString('base64')}`, 'ctx'), /cannot decrypt/);
  assert.throws(() => new SecretBox(Buffer.alloc(16)), /32 bytes/);
});

test('loadMasterKey: creates <dataDir>/secrets/master.key once with mode 0600, then reuses it', (t) => {
  const dir = tempDir(t);
  const first = loadMasterKey(dir, {});
  assert.equal(first.length, 32);
  assert.equal(statSync(masterKeyPath(dir)).mode & 0o777, 0o600);
  assert.deepEqual(loadMasterKey(dir, {}), first);
  chmodSync(masterKeyPath(dir), 0o644);
  assert.throws(() => loadMasterKey(dir, {}), /readable by others/);
});

test('loadMasterKey: GRIM_MASTER_KEY (base64) wins and is validated', (t) => {
  const dir = tempDir(t);
  const key = Buffer.alloc(32, 3);
  assert.deepEqual(loadMasterKey(dir, { GRIM_MASTER_KEY: key.toString('base64') }), key);
  assert.throws(() => loadMasterKey(dir, { GRIM_MASTER_KEY: 'c2hvcnQ=' }), /32 bytes/);
});

test('stored key pair: private key only sealed, unsealed key parses and matches the public key', (t) => {
  const box = openSecretBox(tempDir(t), {});
  const stored = generateStoredKeyPair(box, 'ctl');
  assert.ok(!stored.sealedPrivateKey.includes('OPENSSH'));
  const privateKey = unsealPrivateKey(box, stored);
  const parsed = ssh2.utils.parseKey(privateKey);
  assert.ok(!(parsed instanceof Error));
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  assert.equal(fingerprintOfKeyBlob(key.getPublicSSH()), stored.fingerprint);
  assert.equal(fingerprintOfPublicKey(stored.publicKey), stored.fingerprint);
});
