// Buildbot's UI through grim without Buildbot running: the CSP of its pages allows exactly their inline
// scripts; the pages need a grim login, answer 503 while Buildbot is stopped, and nothing but GET goes through.
// (The UI itself, through grim, in real Chromium: test/integration/pipelines-ui.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildbotCsp } from '../../src/server/buildbot-ui.ts';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import { startTestApp } from '../helpers/app.ts';

test("buildbotCsp: Buildbot's inline config script by hash, no script from elsewhere", () => {
  const inline = '\n    window.buildbotFrontendConfig = {"title": "x"};\n';
  const csp = buildbotCsp(`<script src="./a.js"></script><script id="bb-config">${inline}</script>`);
  const hash = createHash('sha256').update(inline).digest('base64');
  assert.match(csp, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
  assert.doesNotMatch(csp, /unsafe-inline'[^;]*;.*script|script-src[^;]*unsafe/);
  assert.match(buildbotCsp(null), /script-src 'self';/);
});

test('/buildbot/: a grim login first, 503 while Buildbot is stopped, read-only', async (t) => {
  const a = await startTestApp(t);
  assert.equal((await a.call('GET', '/buildbot/')).status, 401);
  const viewer = await a.tokenFor('viewer');
  const r = await a.call('GET', '/buildbot/', { token: viewer });
  assert.equal(r.status, 503);
  assert.match(r.json.error.message, /Buildbot is not running/);
  assert.equal(
    (await a.call('POST', '/buildbot/api/v2/forceschedulers/x', { token: a.adminToken })).status,
    404,
  );
});

test("/buildbot/ws: the UI's WebSocket is bridged to Buildbot's, both ways", async (t) => {
  // A WebSocket server in Buildbot's place (its /ws answers each frame).
  const upstream = Fastify();
  await upstream.register(websocket);
  upstream.get('/ws', { websocket: true }, (s) => void s.on('message', (m: Buffer) => s.send(`got ${m}`)));
  await upstream.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => upstream.close());
  const a = await startTestApp(t);
  await a.app.listen({ host: '127.0.0.1', port: 0 });
  a.services.pipelines.buildbot.settings.wwwPort = (upstream.server.address() as AddressInfo).port;
  const url = `ws://127.0.0.1:${(a.app.server.address() as AddressInfo).port}/buildbot/ws`;
  const answer = (headers: Record<string, string>) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { headers } as never);
      ws.addEventListener('open', () => ws.send('{"cmd":"ping"}'));
      ws.addEventListener('message', (e) => {
        resolve(String(e.data));
        ws.close();
      });
      ws.addEventListener('error', () => resolve('refused'));
    });
  assert.equal(await answer({ authorization: `Bearer ${await a.tokenFor('viewer')}` }), 'got {"cmd":"ping"}');
  // Without a grim login the upgrade is refused before any bridge (the role check of the route).
  assert.equal((await a.call('GET', '/buildbot/ws')).status, 401);
});
