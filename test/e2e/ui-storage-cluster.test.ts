// The Storage clusters page in real Chromium against a real grim server and a 1-node lab running the real weed:
// the cluster page shows the master (leader), the volume server with its capacity, filer and S3 gateway,
// buckets with quotas, keys by name and access key (never the secret), mounts, health, and the repair preview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { withLab } from '../helpers/lab.ts';
import { startGrimServer } from '../helpers/grim-process.ts';
import { allowHttpErrors, launchBrowser } from '../helpers/browser.ts';
import { weedBinary } from '../helpers/seaweedfs-lab.ts';
import { ensureWebBuilt } from './web-build.ts';
import { api, loginSession } from './http-session.ts';
import { login, newPage, openFromNav, shot } from './ui-steps.ts';

const ADMIN_PASSWORD = 'admin-password-123';

test(
  'Storage clusters UI: masters and leader, volume servers, buckets, key names, health, repair preview',
  { timeout: 300_000 },
  async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    const weed = weedBinary();
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    ensureWebBuilt();
    const server = await startGrimServer({ GRIM_ADMIN_PASSWORD: ADMIN_PASSWORD });
    t.after(() => server.stop());
    const s = await loginSession(server.url, 'admin', ADMIN_PASSWORD);
    await api(s, 'POST', '/api/environments', { name: 'lab' });
    const n1 = lab.nodes[0];
    await api(s, 'POST', '/api/nodes', {
      name: 'n1',
      environment: 'lab',
      address: n1.address,
      hostKeyFingerprint: n1.hostKeyFingerprint,
      credential: { privateKey: readFileSync(lab.clientKeyPath, 'utf8') },
      roles: ['storage'],
    });
    await api(s, 'POST', '/api/storage/releases', { version: '4.48', path: weed });
    await api(s, 'POST', '/api/storage/clusters/lab', {
      masters: ['n1'],
      filers: ['n1'],
      s3: ['n1'],
      volumeSizeLimitMB: 32,
      version: '4.48',
    });
    t.after(async () => {
      await api(s, 'DELETE', '/api/storage/clusters/lab?deleteData=true').catch(() => undefined);
    });
    for (let i = 0; ; i++) {
      const c = (await api(s, 'GET', '/api/storage/clusters/lab')).cluster;
      if (c.state === 'ready') break;
      assert.equal(c.state, 'provisioning', c.stateReason);
      assert.ok(i < 600, 'cluster ready within 2 min');
      await delay(200);
    }
    await api(s, 'POST', '/api/storage/clusters/lab/buckets', { name: 'photos', quotaMB: 100 });
    const key = (
      await api(s, 'POST', '/api/storage/clusters/lab/keys', {
        name: 'photos-rw',
        bucket: 'photos',
        actions: ['Read', 'Write'],
      })
    ).key;

    const { page, problems } = await newPage(
      browser,
      allowHttpErrors([{ status: 401, path: '/api/auth/whoami' }]),
    );
    await page.goto(server.url + '/');
    await login(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await openFromNav(page, 'Storage clusters', /Storage clusters/);
    await page.getByRole('link', { name: 'lab', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Storage cluster lab' }).waitFor();

    const region = (name: string) => page.getByRole('region', { name });
    await region('State').getByText('Healthy.').waitFor();
    assert.match(await region('State').innerText(), /ready[\s\S]*SeaweedFS 4\.48[\s\S]*Replication 000: /);
    assert.match(await region('Masters').getByRole('row', { name: /n1/ }).innerText(), /n1\s+yes\s+leader/);
    const vol = await region('Volume servers').getByRole('row', { name: /n1/ }).innerText();
    assert.match(vol, /n1\s+yes\s+yes\s+\d+\s+[\d.]+\s*\S*\s+[\d.]+/);
    assert.match(await region('Volume servers').innerText(), /Filers: n1 up; S3\s+gateways: n1 up/);
    const access = region('Buckets, keys and mounts');
    assert.match(await access.getByRole('table', { name: 'Buckets' }).innerText(), /photos\s+100/);
    const keys = await access.getByRole('table', { name: /Keys/ }).innerText();
    assert.match(keys, new RegExp(`photos-rw\\s+${key.accessKey}\\s+photos\\s+Read, Write\\s+active`));
    assert.ok(!(await page.content()).includes(key.secretKey), 'the secret is never on the page');

    await region('Operations').getByRole('button', { name: 'Check health now' }).click();
    await region('Operations').getByRole('button', { name: 'Preview repair' }).click();
    const out = await page.getByLabel('Repair output').innerText();
    assert.match(out, /preview: .*volume\.fix\.replication/);
    await shot(page, 'storage-cluster');
    assert.deepEqual(problems, []);
  },
);
