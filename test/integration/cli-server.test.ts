import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { startGrimServer, grim, cliEnv } from '../helpers/grim-process.ts';

test('first run prints a one-time admin password; the CLI logs in, works, and fails clearly', async (t) => {
  const srv = await startGrimServer({ GRIM_ADMIN_PASSWORD: '' });
  t.after(() => srv.stop());
  const health = await fetch(`${srv.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
  const m = /one-time password: (\S+)/.exec(srv.output());
  assert.ok(m, `the first-run password is printed:\n${srv.output()}`);
  const env = cliEnv();

  const bad = await grim(
    ['login', '--server', srv.url, '--username', 'admin', '--password-stdin'],
    env,
    'wrong-password\n',
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /wrong username or password/);

  const login = await grim(
    ['login', '--server', srv.url, '--username', 'admin', '--password-stdin'],
    env,
    m[1] + '\n',
  );
  assert.equal(login.code, 0, login.stderr);
  const who = await grim(['whoami', '--json'], env);
  assert.equal(JSON.parse(who.stdout).user.username, 'admin');

  const add = await grim(
    ['user', 'add', 'bob', '--role', 'viewer', '--password-stdin'],
    env,
    'bobs-long-password\n',
  );
  assert.equal(add.code, 0, add.stderr);
  const invalid = await grim(['user', 'add', 'Bad Name', '--role', 'root', '--password-stdin'], env, 'x\n');
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /body\/username/);
  assert.match(invalid.stderr, /body\/role/);
  assert.match(invalid.stderr, /body\/password/);

  const tok = await grim(['token', 'create', '--name', 'ci', '--role', 'viewer', '--json'], env);
  const secret = JSON.parse(tok.stdout).secret;
  const viewerEnv = { ...cliEnv(), GRIM_SERVER: srv.url, GRIM_TOKEN: secret };
  const denied = await grim(['user', 'add', 'eve', '--password-stdin'], viewerEnv, 'eves-long-password\n');
  assert.equal(denied.code, 4);
  assert.match(denied.stderr, /needs role admin/);

  const list = await grim(['audit', 'list', '--json', '--limit', '100'], env);
  const actions = JSON.parse(list.stdout).entries.map((e: { action: string }) => e.action);
  for (const a of ['user.first-admin', 'login.failed', 'login', 'createToken', 'createUser', 'token.use'])
    assert.ok(actions.includes(a), `${a} in ${actions}`);
  assert.ok(
    JSON.parse(list.stdout).entries.some((e: any) => e.action === 'createUser' && e.outcome === 'denied'),
  );

  const ok = await grim(['audit', 'verify'], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /intact/);

  // An anchor exported now catches a truncated tail, which the hash chain alone cannot show.
  const anchorFile = join(srv.dataDir, 'anchor.json');
  assert.equal((await grim(['audit', 'anchor', '--out', anchorFile], env)).code, 0);
  const anchor = JSON.parse(readFileSync(anchorFile, 'utf8')) as { seq: number; hash: string };
  assert.ok(anchor.seq > 3 && /^[0-9a-f]{64}$/.test(anchor.hash), JSON.stringify(anchor));
  const anchored = await grim(['audit', 'verify', '--anchor', anchorFile], env);
  assert.equal(anchored.code, 0, anchored.stdout + anchored.stderr);
  assert.match(anchored.stdout, /anchor entry present and unchanged/);
  const db = new DatabaseSync(join(srv.dataDir, 'grim.db'));
  db.exec('DROP TRIGGER audit_log_no_delete');
  db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(anchor.seq - 1);
  const chainOnly = await grim(['audit', 'verify'], env);
  assert.equal(chainOnly.code, 0, 'the shortened chain is still a valid chain');
  const truncated = await grim(['audit', 'verify', '--anchor', anchorFile], env);
  assert.equal(truncated.code, 2);
  assert.match(
    truncated.stdout,
    new RegExp(`anchor check FAILED: entry ${anchor.seq} of the anchor is gone: the log was truncated`),
  );

  // Tamper with a stored row behind grim's back: verify fails and names the entry.
  db.exec('DROP TRIGGER audit_log_no_update');
  db.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3");
  db.close();
  const broken = await grim(['audit', 'verify'], env);
  assert.equal(broken.code, 2);
  assert.match(broken.stdout, /BROKEN at entry 3/);

  const out = await grim(['logout'], env);
  assert.equal(out.code, 0);
  assert.notEqual((await grim(['whoami'], env)).code, 0);
});

test('on a non-loopback address grim serves HTTPS from its local CA, and the CLI pins that CA', async (t) => {
  const srv = await startGrimServer(
    { GRIM_ADMIN_PASSWORD: 'tls-admin-password' },
    { scheme: 'https', listenHost: '0.0.0.0' },
  );
  t.after(() => srv.stop());
  const ca = join(srv.dataDir, 'tls', 'ca.crt');
  const env = cliEnv();
  const unpinned = await grim(
    ['login', '--server', srv.url, '--password-stdin'],
    env,
    'tls-admin-password\n',
  );
  assert.notEqual(unpinned.code, 0, 'an unknown CA is refused');
  const pinned = await grim(
    ['login', '--server', srv.url, '--ca-file', ca, '--password-stdin'],
    env,
    'tls-admin-password\n',
  );
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal((await grim(['whoami'], env)).code, 0);
  await assert.rejects(fetch(`http://127.0.0.1:${srv.port}/healthz`), 'plain HTTP is not served');
  // Over TLS the session cookie is Secure.
  const setCookie = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(
      `${srv.url}/api/auth/login`,
      { method: 'POST', ca: readFileSync(ca), headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(String(res.headers['set-cookie']));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ username: 'admin', password: 'tls-admin-password' }));
  });
  assert.match(setCookie, /; Secure/);
});

test('plain HTTP on a non-loopback address only when asked for', async (t) => {
  const srv = await startGrimServer(
    { GRIM_ADMIN_PASSWORD: 'x-admin-password', GRIM_INSECURE_HTTP: '1' },
    { listenHost: '0.0.0.0' },
  );
  t.after(() => srv.stop());
  assert.match(srv.output(), /warning: serving plain HTTP/);
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
});
