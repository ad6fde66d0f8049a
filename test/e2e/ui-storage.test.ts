// The Storage page in real Chromium against a real server and two storage lab nodes (zfs-fuse): the
// wizard puts the same layout on both nodes (one plan per node, every node's problems listed, created on
// both after one confirmation); a pool is destroyed by typing its name; the wizard (raidz2 with a spare
// and gzip) shows capacity and the exact command before anything runs and follows each change, the vdev
// tree follows a disk taken away (DEGRADED within 60 s), the replace flow shows `zpool replace` and
// brings it back, a scrub scheduled for now is started by the server's storage loop and its result
// shown; a dataset, a snapshot and a rollback; an exported pool is found and imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab } from '../helpers/lab.ts';
import { startGrimServer } from '../helpers/grim-process.ts';
import { allowHttpErrors, launchBrowser } from '../helpers/browser.ts';
import { execInNode } from '../../src/lab/node-control.ts';
import { ensureWebBuilt } from './web-build.ts';
import { api, loginSession } from './http-session.ts';
import { login, newPage, openFromNav, shot } from './ui-steps.ts';

const ADMIN_PASSWORD = 'admin-password-123';

test(
  'Storage UI: same layout on two nodes, destroy by name, raidz2 with a spare, DEGRADED, replace, datasets, import',
  { timeout: 300_000 },
  async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    const lab = await withLab(t, {
      nodes: 2,
      os: 'debian',
      storageDisks: { count: 6, sizeBytes: 1024 ** 3 },
    });
    if (!lab) return;
    ensureWebBuilt();
    const server = await startGrimServer({
      GRIM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      GRIM_STORAGE_CHECK_MS: '3000',
    });
    t.after(() => server.stop());
    const s = await loginSession(server.url, 'admin', ADMIN_PASSWORD);
    await api(s, 'POST', '/api/environments', { name: 'lab' });
    const { readFileSync } = await import('node:fs');
    for (const [i, n] of lab.nodes.entries())
      await api(s, 'POST', '/api/nodes', {
        name: `n${i + 1}`,
        environment: 'lab',
        address: n.address,
        hostKeyFingerprint: n.hostKeyFingerprint,
        credential: { privateKey: readFileSync(lab.clientKeyPath, 'utf8') },
        roles: ['storage'],
      });
    const { page } = await newPage(
      browser,
      allowHttpErrors([
        { status: 401, path: '/api/auth/whoami' },
        { status: 400, path: '/api/storage/nodes/n1/pool-plan' },
        { status: 400, path: '/api/storage/pool-plans' },
      ]),
    );
    await page.goto(server.url + '/');
    await login(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await openFromNav(page, 'Storage', 'Storage');
    await page.getByRole('link', { name: 'n1' }).click();
    await page.getByRole('heading', { level: 1, name: 'Storage: n1' }).waitFor();

    const wizard = page.getByRole('region', { name: 'Create a pool' });
    await wizard.getByLabel('Pool name').fill('bad name');
    await wizard.getByRole('button', { name: 'Preview' }).click();
    await wizard.getByRole('alert').waitFor();
    const refused = await wizard.getByRole('alert').innerText();
    assert.match(refused, /pool name contains space/);
    assert.match(refused, /raidz2 needs at least 3 disks, got 0/);

    // The same layout on n1 and n2: disks by role and count, one plan per node, every node's problems
    // listed, nothing runs before the one confirmation
    const poolsOn = async (node: number) =>
      (await execInNode(lab, node, 'zpool list -H -o name,health')).stdout;
    await wizard.getByLabel('Pool name').fill('both');
    await wizard.getByLabel('Layout').selectOption('mirror');
    await wizard.getByRole('checkbox', { name: 'n2' }).check();
    await wizard.getByLabel('Data disks per node').fill('7');
    await wizard.getByRole('button', { name: 'Preview' }).click();
    const tooMany = await wizard.getByRole('alert').innerText();
    for (const n of ['n1', 'n2'])
      assert.match(tooMany, new RegExp(`${n}: 6 free disks, the request needs 7 data`));
    await wizard.getByLabel('Data disks per node').fill('2');
    await wizard.getByRole('button', { name: 'Preview' }).click();
    for (const n of ['n1', 'n2']) {
      const id = String.raw`/dev/disk/by-id/ata-GRIM_LAB_DISK_\S+${n}d`;
      await wizard.getByLabel(`Command on ${n}`).waitFor();
      assert.match(
        await wizard.getByLabel(`Command on ${n}`).innerText(),
        new RegExp(`^zpool create -o ashift=12 -O compression=on -O atime=off both mirror ${id}1 ${id}2$`),
      );
      const plan = await wizard.getByLabel(`Pool plan on ${n}`).innerText();
      assert.match(plan, /Usable capacity: \d+(\.\d+)?M \(\d+ bytes/);
      assert.match(plan, /May fail: any 1 disk may fail/);
    }
    assert.equal((await poolsOn(1)) + (await poolsOn(2)), '', 'nothing ran before Create');
    await shot(page, 'storage-wizard-two-nodes');
    await wizard.getByRole('button', { name: 'Create pool on 2 nodes' }).click();
    await page
      .getByRole('region', { name: 'Pool both' })
      .getByRole('heading', { name: /ONLINE/ })
      .waitFor();
    assert.equal(await poolsOn(2), 'both\tONLINE\n');

    // Destroying asks for the pool's name
    const both = page.getByRole('region', { name: 'Pool both' });
    await both.getByRole('button', { name: 'Destroy…' }).click();
    const destroy = both.getByRole('group', { name: 'Destroy both' });
    assert.match(await destroy.innerText(), /zpool destroy both/);
    await destroy.getByLabel("Type the pool's name to destroy it").fill('bot');
    assert.equal(await destroy.getByRole('button', { name: 'Destroy pool both' }).isDisabled(), true);
    await destroy.getByLabel("Type the pool's name to destroy it").fill('both');
    await destroy.getByRole('button', { name: 'Destroy pool both' }).click();
    await both.waitFor({ state: 'detached' });
    assert.equal(await poolsOn(1), '');
    assert.equal(await poolsOn(2), 'both\tONLINE\n', 'only n1 lost it');
    await wizard.getByRole('checkbox', { name: 'n2' }).uncheck();

    // raidz2 on 4 disks with a hot spare and gzip: the plan follows each change before anything runs
    await wizard.getByLabel('Pool name').fill('tank');
    await wizard.getByLabel('Layout').selectOption('raidz2');
    const roles = wizard.getByRole('combobox', { name: /^Use \/dev\/disk\/by-id\/ata-GRIM_LAB_DISK/ });
    assert.equal(await roles.count(), 6);
    for (let i = 0; i < 4; i++) await roles.nth(i).selectOption('data');
    await roles.nth(4).selectOption('spares');
    await wizard.getByRole('button', { name: 'Preview' }).click();
    const command = wizard.getByLabel('Command');
    await command.waitFor();
    const disk = String.raw`/dev/disk/by-id/ata-GRIM_LAB_DISK_\S+`;
    assert.match(
      await command.innerText(),
      new RegExp(
        `^zpool create -o ashift=12 -O compression=on -O atime=off tank raidz2( ${disk}){4} spare ${disk}d5$`,
      ),
    );
    let planText = await wizard.getByLabel('Pool plan').innerText();
    assert.match(planText, /Usable capacity: 1\.\d+G/);
    assert.match(planText, /May fail: any 2 disks may fail/);
    assert.match(planText, /spare: \/dev\/disk\/by-id\/\S+d5/);
    await wizard.getByLabel('Compression').selectOption('gzip');
    await wizard
      .getByLabel('Command')
      .getByText(/-O compression=gzip /)
      .waitFor({ timeout: 15_000 });
    planText = await wizard.getByLabel('Pool plan').innerText();
    assert.match(planText, /Usable capacity: 1\.\d+G/);
    assert.equal((await execInNode(lab, 1, 'zpool list -H -o name')).stdout, '', 'nothing ran before Create');
    await shot(page, 'storage-wizard-plan');
    await wizard.getByRole('button', { name: 'Create pool' }).click();

    const pool = page.getByRole('region', { name: 'Pool tank' });
    await pool.getByRole('heading', { name: /Pool tank ONLINE/ }).waitFor();
    const tree = await pool.getByRole('list', { name: 'vdevs of tank' }).innerText();
    assert.match(tree, /raidz2-0\s+ONLINE/);
    assert.match(tree, /GRIM_LAB_DISK_\S+d5\s+AVAIL/);
    assert.equal((await execInNode(lab, 1, 'zfs get -H -o value compression tank')).stdout, 'gzip\n');
    assert.equal((await execInNode(lab, 1, 'zpool list -H -o name,health')).stdout, 'tank\tONLINE\n');

    // A disk taken away on the node itself; the page shows it within 60 s
    const victim = (await execInNode(lab, 1, 'ls /dev/disk/by-id | sort | head -n 1')).stdout.trim();
    const taken = Date.now();
    await execInNode(lab, 1, `zpool offline tank /dev/disk/by-id/${victim}`);
    await pool.getByRole('heading', { name: /Pool tank DEGRADED/ }).waitFor({ timeout: 60_000 });
    console.log(
      `# UI showed DEGRADED ${((Date.now() - taken) / 1000).toFixed(1)} s after the disk was taken away`,
    );
    await page
      .getByRole('list', { name: 'Storage events' })
      .getByText(/ONLINE -> DEGRADED/)
      .waitFor({ timeout: 15_000 });
    await shot(page, 'storage-degraded');

    await pool.getByRole('button', { name: `Replace ${victim}…` }).click();
    const replace = page.getByRole('region', { name: /^Replace / });
    await replace.getByRole('button', { name: 'Show command' }).click();
    const replaceCmd = await replace.getByLabel('Replace command').innerText();
    assert.match(
      replaceCmd,
      new RegExp(`^zpool replace tank /dev/disk/by-id/${victim} /dev/disk/by-id/ata-GRIM_LAB_DISK_\\S+d6$`),
    );
    await replace.getByRole('button', { name: 'Run zpool replace' }).click();
    await pool.getByRole('heading', { name: /Pool tank ONLINE/ }).waitFor({ timeout: 60_000 });
    await pool.getByText(/resilver finished with 0 errors/).waitFor({ timeout: 30_000 });
    await shot(page, 'storage-replaced');

    // The admin moves the next scheduled scrub to now: the server's own storage loop starts it and the
    // page shows its result
    const schedule = pool.getByLabel('Scrub schedule of tank');
    assert.match(await schedule.innerText(), /Scheduled scrub: every 30d, next \d{4}-/);
    await schedule.getByLabel('Scrub every').fill('7d');
    await schedule.getByLabel('next').fill('now');
    await schedule.getByRole('button', { name: 'Save schedule' }).click();
    await schedule
      .getByText(/every 7d, next .*; last: scrub finished without errors/)
      .waitFor({ timeout: 30_000 });
    const scrubs = (await execInNode(lab, 1, 'zpool history tank')).stdout
      .split('\n')
      .filter((l) => l.includes('zpool scrub'));
    assert.equal(scrubs.length, 1, scrubs.join('\n'));

    // A dataset with a quota, a snapshot, a rollback: each command shown first
    const datasets = pool.getByRole('group', { name: 'Datasets of tank' });
    await datasets.getByLabel('New dataset', { exact: true }).fill('tank/data');
    await datasets.getByLabel('Quota').fill('10Mi');
    await datasets.getByRole('button', { name: 'Show command' }).click();
    assert.equal(
      await datasets.getByLabel('Dataset command').innerText(),
      'zfs create -p -o quota=10485760 tank/data',
    );
    await datasets.getByRole('button', { name: 'Create dataset' }).click();
    await datasets.getByRole('cell', { name: 'tank/data', exact: true }).waitFor();
    await execInNode(lab, 1, 'echo kept > /tank/data/a');
    await datasets.getByLabel('Snapshot of').selectOption('tank/data');
    await datasets.getByLabel('named').fill('s1');
    await datasets.getByRole('button', { name: 'Take snapshot' }).click();
    const rollBack = datasets.getByRole('button', { name: 'Roll back to tank/data@s1' });
    await rollBack.waitFor(); // the snapshot is taken and listed
    await execInNode(lab, 1, 'echo lost > /tank/data/b');
    await rollBack.click();
    assert.equal(await datasets.getByLabel('Rollback command').innerText(), 'zfs rollback tank/data@s1');
    await datasets.getByRole('button', { name: 'Run rollback' }).click();
    await datasets.getByLabel('Rollback command').waitFor({ state: 'detached' });
    assert.equal((await execInNode(lab, 1, 'ls /tank/data')).stdout, 'a\n');

    // An exported pool is found on the node's disks and adopted
    await execInNode(lab, 1, 'for i in 1 2 3 4 5; do zpool export tank && break; sleep 1; done');
    await pool.waitFor({ state: 'detached', timeout: 15_000 });
    const adopt = page.getByRole('region', { name: 'Import existing pools' });
    await adopt.getByRole('button', { name: 'Look for pools' }).click();
    const importable = adopt.getByRole('list', { name: 'Importable pools' });
    assert.match(
      await importable.innerText(),
      /tank \(id \d+\) ONLINE .*zpool import -d \/dev\/disk\/by-id tank/s,
    );
    await importable.getByRole('button', { name: 'Import tank' }).click();
    await pool.getByRole('heading', { name: /Pool tank ONLINE/ }).waitFor({ timeout: 15_000 });
    assert.equal((await execInNode(lab, 1, 'cat /tank/data/a')).stdout, 'kept\n');
    await shot(page, 'storage-imported');
  },
);
