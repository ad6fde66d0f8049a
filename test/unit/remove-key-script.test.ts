// scripts/node/remove-key.sh under dash and busybox ash: removes exactly the old key's line, keeps every other
// line, is idempotent, and refuses to run when grim's new key is not authorized (no lock-out) or on junk input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';
import { generateKeyPair } from '../../src/ssh/keys.ts';

const run = (shell: string[], env: Record<string, string>) =>
  spawnSync(shell[0], [...shell.slice(1), '-s'], {
    input: readFileSync(join(SCRIPTS_DIR, 'node', 'remove-key.sh')),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });

for (const shell of [['dash'], ['busybox', 'sh']]) {
  test(`remove-key.sh under ${shell.join(' ')}`, (t) => {
    const home = mkdtempSync(join(tmpdir(), 'grim-home-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const oldKey = generateKeyPair('ctl').publicKey;
    const newKey = generateKeyPair('ctl').publicKey;
    const blob = (line: string) => line.split(' ')[1];
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    const file = join(home, '.ssh', 'authorized_keys');
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIothers admin@laptop';
    writeFileSync(file, `${other}\nfrom="10.0.0.1" ${oldKey}\n${newKey}\n`, { mode: 0o600 });
    const env = { HOME: home, GRIM_REMOVE_BLOB: blob(oldKey), GRIM_KEEP_BLOB: blob(newKey) };
    const first = run(shell, env);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { removed: true, path: file });
    assert.equal(readFileSync(file, 'utf8'), `${other}\n${newKey}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = run(shell, env);
    assert.deepEqual(JSON.parse(again.stdout), { removed: false, path: file });
    // The new key is missing: refuse, change nothing.
    writeFileSync(file, `${oldKey}\n`, { mode: 0o600 });
    const refused = run(shell, env);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /not removing the old one/);
    assert.equal(readFileSync(file, 'utf8'), `${oldKey}\n`);
    for (const bad of [
      { GRIM_REMOVE_BLOB: '', GRIM_KEEP_BLOB: blob(newKey) },
      { GRIM_REMOVE_BLOB: 'AAAA$(id)', GRIM_KEEP_BLOB: blob(newKey) },
      { GRIM_REMOVE_BLOB: blob(newKey), GRIM_KEEP_BLOB: blob(newKey) },
    ])
      assert.equal(run(shell, { HOME: home, ...bad }).status, 2, JSON.stringify(bad));
  });
}
