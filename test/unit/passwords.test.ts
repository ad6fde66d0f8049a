// Password hashes (scrypt, 32 MiB each while it runs) are computed one at a time, so a burst of logins raises
// the server's memory by one hash, not by one per libuv thread (bench/footprint.ts prints the peak).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, passwordHashes, verifyPassword } from '../../src/services/passwords.ts';

test('concurrent hashes run one at a time, and each still verifies', async () => {
  const passwords = ['alpha-password', 'bravo-password', 'charlie-password'];
  const hashing = passwords.map((p) => hashPassword(p));
  assert.deepEqual(passwordHashes(), { running: 1, waiting: 2 });
  const hashes = await Promise.all(hashing);
  assert.deepEqual(passwordHashes(), { running: 0, waiting: 0 });
  assert.deepEqual(await Promise.all(hashes.map((h, i) => verifyPassword(passwords[i], h))), [
    true,
    true,
    true,
  ]);
  assert.equal(await verifyPassword('wrong', hashes[0]), false);
});
