// The storage CLI and the Storage clusters page against a real grim server and a 1-node lab running the real
// weed. The CLI sets the cluster up (`grim storage release add`, `cluster create --release`, which waits and
// prints the time), makes a bucket and a key (the secret printed once), lists buckets and polls health; then
// in real Chromium the cluster page shows the master (leader), the volume server with its capacity, filer and S3 gateway,
// buckets with quotas, keys by name and access key (never the secret), mounts, health, and the repair preview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withLab } from '../helpers/lab.ts';
import { cliEnv, grim, startGrimServer } from '../helpers/grim-process.ts';
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
    const env = cliEnv();
    const cli = async (...args: string[]) => {
      const r = await grim(args, env);
      assert.equal(r.code, 0, `grim ${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    assert.equal(
      (await grim(['login', '--server', server.url, '--password-stdin'], env, `${ADMIN_PASSWORD}\n`)).code,
      0,
    );
    assert.match(
      await cli('storage', 'release', 'add', '4.48', '--path', weed),
      /^recorded 4\.48: sha256 [0-9a-f]{64}/,
    );
    t.after(async () => {
      await api(s, 'DELETE', '/api/storage/clusters/lab?deleteData=true').catch(() => undefined);
    });
    const created = await cli(
      'storage',
      'cluster',
      'create',
      'lab',
      '--masters',
      'n1',
      '--filers',
      'n1',
      '--s3',
      'n1',
      '--volume-size-mb',
      '32',
      '--release',
      '4.48',
    );
    assert.match(created, /cluster lab: ready, SeaweedFS 4\.48/);
    assert.match(created, /n1\s+master\s+yes\s+leader/);
    console.log(`# ${/ready after [\d.]+ s/.exec(created)?.[0]} (grim storage cluster create, 1 node)`);
    assert.equal(
      await cli('storage', 'bucket', 'create', 'photos', '--env', 'lab', '--quota-mb', '100'),
      'bucket photos created (quota 100 MB)\n',
    );
    const made = await cli(
      'storage',
      'key',
      'create',
      'photos-rw',
      '--env',
      'lab',
      '--bucket',
      'photos',
      '--actions',
      'Read,Write',
    );
    const key = {
      accessKey: /^AWS_ACCESS_KEY_ID=(\S+)$/m.exec(made)![1],
      secretKey: /^AWS_SECRET_ACCESS_KEY=(\S+)$/m.exec(made)![1],
    };
    assert.match(await cli('storage', 'bucket', 'list', '--env', 'lab'), /photos\s+100/);
    assert.equal(await cli('storage', 'cluster', 'health', 'lab'), 'healthy, leader n1\n');
    assert.ok(
      !(await cli('storage', 'cluster', 'show', 'lab')).includes(key.secretKey),
      'the secret is printed once',
    );

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
