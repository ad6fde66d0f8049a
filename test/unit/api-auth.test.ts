import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, ADMIN_PASSWORD } from '../helpers/app.ts';
import { routes } from '../../src/api/index.ts';
import { LoginLimiter } from '../../src/server/login-limiter.ts';

const concrete = (path: string) => path.replace(/:([A-Za-z]+)/g, 'x1');

test('every route except the public ones answers 401 without credentials', async (t) => {
  const a = await startTestApp(t);
  for (const [op, def] of Object.entries(routes)) {
    if (def.role === 'public') continue;
    const r = await a.call(def.method, concrete(def.path), { body: def.body ? {} : undefined });
    assert.equal(r.status, 401, `${op} ${def.method} ${def.path}`);
    assert.equal(r.json.error.code, 'unauthenticated');
  }
  for (const url of ['/healthz', '/readyz', '/api/openapi.json'])
    assert.equal((await a.call('GET', url)).status, 200, url);
  assert.equal((await a.call('GET', '/metrics')).status, 401);
});

test('a viewer gets 403 on every mutation, before any validation', async (t) => {
  const a = await startTestApp(t);
  const viewer = await a.tokenFor('viewer');
  for (const [op, def] of Object.entries(routes)) {
    if (def.method === 'GET' || def.role === 'public' || def.role === 'viewer') continue;
    const r = await a.call(def.method, concrete(def.path), { token: viewer, body: {} });
    assert.equal(r.status, 403, `${op}`);
  }
  assert.equal((await a.call('GET', '/api/audit', { token: viewer })).status, 200);
});

test('login sets an httpOnly SameSite cookie; mutations with the cookie need the CSRF token', async (t) => {
  const a = await startTestApp(t);
  const bad = await a.call('POST', '/api/auth/login', { body: { username: 'admin', password: 'nope' } });
  assert.equal(bad.status, 401);
  const r = await a.call('POST', '/api/auth/login', {
    body: { username: 'admin', password: ADMIN_PASSWORD },
  });
  assert.equal(r.status, 200);
  const setCookie = String(r.headers['set-cookie']);
  assert.match(setCookie, /grim_session=/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  const cookie = setCookie.split(';')[0];
  const who = await a.call('GET', '/api/auth/whoami', { headers: { cookie } });
  assert.equal(who.json.user.username, 'admin');
  const body = { name: 'cli', role: 'viewer' };
  assert.equal((await a.call('POST', '/api/tokens', { headers: { cookie }, body })).status, 403);
  const wrong = await a.call('POST', '/api/tokens', {
    headers: { cookie, 'x-csrf-token': 'gc_wrong' },
    body,
  });
  assert.equal(wrong.json.error.code, 'csrf');
  const ok = await a.call('POST', '/api/tokens', {
    headers: { cookie, 'x-csrf-token': r.json.csrfToken },
    body,
  });
  assert.equal(ok.status, 201);
  await a.call('POST', '/api/auth/logout', { headers: { cookie, 'x-csrf-token': r.json.csrfToken } });
  assert.equal((await a.call('GET', '/api/auth/whoami', { headers: { cookie } })).status, 401);
});

test('API tokens: shown once, stored hashed, scoped to a role, revocable', async (t) => {
  const a = await startTestApp(t);
  const c = await a.call('POST', '/api/tokens', {
    token: a.adminToken,
    body: { name: 'ro', role: 'viewer' },
  });
  assert.equal(c.status, 201);
  const secret: string = c.json.secret;
  assert.match(secret, /^grim_/);
  const stored = await a.services.db.all<any>('SELECT * FROM api_tokens');
  assert.ok(
    stored.every((row) => !JSON.stringify(row).includes(secret)),
    'the secret is not stored',
  );
  const list = await a.call('GET', '/api/tokens', { token: a.adminToken });
  assert.ok(!JSON.stringify(list.json).includes(secret), 'the secret is not listed');
  // scoped: an admin's viewer token cannot mutate
  assert.equal(
    (
      await a.call('POST', '/api/users', {
        token: secret,
        body: { username: 'x', password: 'long-enough-pw', role: 'viewer' },
      })
    ).status,
    403,
  );
  assert.equal((await a.call('GET', '/api/auth/whoami', { token: secret })).json.user.role, 'viewer');
  assert.equal(
    (await a.call('DELETE', `/api/tokens/${c.json.token.id}`, { token: a.adminToken })).status,
    200,
  );
  assert.equal((await a.call('GET', '/api/auth/whoami', { token: secret })).status, 401);
});

test('a viewer cannot mint an admin token', async (t) => {
  const a = await startTestApp(t);
  const viewer = await a.tokenFor('viewer');
  const r = await a.call('POST', '/api/tokens', { token: viewer, body: { name: 'up', role: 'admin' } });
  assert.equal(r.status, 403);
});

test('passwords are stored with scrypt, never in clear', async (t) => {
  const a = await startTestApp(t);
  const row = await a.services.db.get<any>("SELECT password_hash FROM users WHERE username = 'admin'");
  assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$/);
  assert.ok(!row.password_hash.includes(ADMIN_PASSWORD));
});

test('login is rate limited per username', async (t) => {
  const a = await startTestApp(t, { limiter: new LoginLimiter({ perUser: 3, perIp: 100 }) });
  for (let i = 0; i < 3; i++)
    assert.equal(
      (await a.call('POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong' } })).status,
      401,
    );
  const r = await a.call('POST', '/api/auth/login', {
    body: { username: 'admin', password: ADMIN_PASSWORD },
  });
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers['retry-after']) > 0);
  const audit = await a.call('GET', '/api/audit?action=login.rate-limited', { token: a.adminToken });
  assert.equal(audit.json.entries.length, 1);
});

test('the last admin cannot be demoted or deleted', async (t) => {
  const a = await startTestApp(t);
  const id = (await a.services.auth.listUsers())[0].id;
  assert.equal(
    (await a.call('PATCH', `/api/users/${id}`, { token: a.adminToken, body: { role: 'viewer' } })).status,
    409,
  );
  assert.equal((await a.call('DELETE', `/api/users/${id}`, { token: a.adminToken })).status, 409);
});
