import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appWithWeb } from './web-app.ts';
import { startTestApp } from '../helpers/app.ts';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grim-dist-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>grim</title><div id="root"></div>');
  writeFileSync(join(dir, 'assets/index-abc123.js'), 'console.log("hi")');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

test('without a build, / answers 503 with how to build', async (t) => {
  const missing = join(mkdtempSync(join(tmpdir(), 'grim-nodist-')), 'dist');
  const app = await appWithWeb(t, missing);
  const res = await app.inject({ url: '/', headers: HTML });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /web UI not built: run npm run build:web/);
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
});

test('serves the build: hashed assets immutable, index.html not cached', async (t) => {
  const dist = fakeBuild();
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  const app = await appWithWeb(t, dist);

  const asset = await app.inject({ url: '/assets/index-abc123.js' });
  assert.equal(asset.statusCode, 200);
  assert.equal(asset.body, 'console.log("hi")');
  assert.match(String(asset.headers['content-type']), /javascript/);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');

  const index = await app.inject({ url: '/', headers: HTML });
  assert.equal(index.statusCode, 200);
  assert.match(index.body, /<div id="root">/);
  assert.equal(index.headers['cache-control'], 'no-cache');
  // The CSP from the app covers the UI too.
  assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
  // Served over plain http (no TLS, no secure cookies): the browser must not be told to upgrade to https, or a
  // UI on a non-loopback http address loads no script at all.
  assert.doesNotMatch(String(index.headers['content-security-policy']), /upgrade-insecure-requests/);
  assert.equal(index.headers['cross-origin-opener-policy'], undefined, 'ignored (with an error) over http');
  assert.equal(index.headers['origin-agent-cluster'], undefined);

  const icon = await app.inject({ url: '/favicon.svg' });
  assert.equal(icon.statusCode, 200);
  assert.equal(icon.headers['cache-control'], 'no-cache');
});

test('SPA fallback: page paths get index.html; API and non-HTML misses get JSON 404s', async (t) => {
  const dist = fakeBuild();
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  const app = await appWithWeb(t, dist);

  for (const url of ['/audit', '/users', '/some/deep/link?x=1']) {
    const res = await app.inject({ url, headers: HTML });
    assert.equal(res.statusCode, 200, url);
    assert.match(res.body, /<div id="root">/, url);
  }
  for (const url of ['/api/nope', '/api', '/api/users/x/y']) {
    const res = await app.inject({ url, headers: HTML });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.json().error.code, 'not_found', url);
  }
  const missingAsset = await app.inject({ url: '/assets/gone.js', headers: { accept: '*/*' } });
  assert.equal(missingAsset.statusCode, 404);
  assert.equal(missingAsset.json().error.code, 'not_found');
  // Only files in the build are served: no way out of the directory.
  const escape = await app.inject({ url: '/..%2f..%2fetc%2fpasswd', headers: { accept: '*/*' } });
  assert.equal(escape.statusCode, 404);
  // The API still works and still wants credentials.
  assert.equal((await app.inject({ url: '/api/users', headers: HTML })).statusCode, 401);
  // A POST to a page path is not the SPA's business.
  assert.equal((await app.inject({ method: 'POST', url: '/audit', headers: HTML })).statusCode, 404);
});

test('served over https (or behind a TLS proxy: secure cookies), the CSP upgrades requests and COOP is sent', async (t) => {
  const { app } = await startTestApp(t, { config: { secureCookies: true } });
  const res = await app.inject({ url: '/healthz' });
  assert.match(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
  assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
  assert.match(String(res.headers['strict-transport-security']), /max-age=/);
});
