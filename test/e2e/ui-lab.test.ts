import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { withLab } from '../helpers/lab.ts';
import { startGrimServer } from '../helpers/grim-process.ts';
import { allowHttpErrors, launchBrowser } from '../helpers/browser.ts';
import { execInNode } from '../../src/lab/node-control.ts';
import { ensureWebBuilt } from './web-build.ts';
import { api, loginSession, waitAppRunning } from './http-session.ts';
import { addLabNodesByApi } from './lab-nodes.ts';
import { login, newPage, openFromNav, shot } from './ui-steps.ts';

const ADMIN_PASSWORD = 'admin-password-123';
const VIEWER = { username: 'vicky', password: 'viewer-password-123' };
const NODES = 20;

// The session check before login; what the viewer is refused on purpose (the server must say no).
const allowed = (() => {
  const http = allowHttpErrors([
    { status: 401, path: '/api/auth/whoami' },
    { status: 403, path: '/api/runs' },
    { status: 403, path: '/api/nodes/n2' },
    // A deploy or rollback held for overcommit answers 409 until it is accepted.
    { status: 409, path: '/api/apps/hello/deploy' },
    { status: 409, path: '/api/apps/hello/rollback' },
  ]);
  return (m: { text: string; url: string }) =>
    http(m) || /WebSocket connection to '.*\/api\/nodes\/n1\/terminal' failed/.test(m.text);
})();

/** The rows xterm.js draws (DOM renderer), as lines of text. */
async function terminalLines(page: Page): Promise<string[]> {
  return (await page.locator('.xterm-rows > div').allInnerTexts()).map((l) =>
    l.replace(/\u00a0/g, ' ').trimEnd(),
  );
}

test(
  `web UI on a ${NODES}-node lab: add a node, run, terminal, audit; viewer is read-only`,
  { timeout: 600_000 },
  async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    const lab = await withLab(t, { nodes: NODES, os: 'debian' });
    if (!lab) return;
    ensureWebBuilt();
    // Usage metrics every second, so that graphs have points within the test.
    const server = await startGrimServer({ GRIM_ADMIN_PASSWORD: ADMIN_PASSWORD, GRIM_METRICS_INTERVAL: '1' });
    t.after(() => server.stop());
    const adminApi = await loginSession(server.url, 'admin', ADMIN_PASSWORD);
    const n1 = lab.nodes[0];
    const admin = await newPage(browser, allowed);
    const page = admin.page;
    const main = page.locator('main');

    await t.test('log in as admin', async () => {
      await page.goto(server.url + '/');
      await login(page, 'admin', ADMIN_PASSWORD);
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await page.getByText('No nodes yet').first().waitFor();
    });

    await t.test(
      'add a lab node, confirming its host-key fingerprint against ssh-keygen on the node',
      async () => {
        await openFromNav(page, 'Nodes', 'Nodes');
        await page.getByRole('link', { name: 'Add node' }).click();
        await page.getByRole('heading', { level: 1, name: 'Add a node' }).waitFor();
        await page.getByLabel('Address').fill(n1.address);
        await page.getByRole('button', { name: 'Fetch host key' }).click();
        const shown = (await page.getByLabel('Host key fingerprint').innerText()).trim();
        // What the admin does on the node's console: ssh-keygen -lf on its host key.
        const onNode = await execInNode(lab, 1, 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
        assert.equal(onNode.stdout.split(' ')[1], shown, `node says ${onNode.stdout}`);
        assert.equal(shown, n1.hostKeyFingerprint);
        assert.match(await main.innerText(), /ssh-keygen -lf \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
        // Nothing to fill in until the admin confirms.
        assert.equal(await page.getByLabel('Name', { exact: true }).count(), 0);
        await shot(page, 'add-node-fingerprint');
        await page.getByLabel('I compared the fingerprints: they match').check();
        await page.getByLabel('Name', { exact: true }).fill('n1');
        await page.getByLabel('New environment name').fill('lab');
        await page.getByLabel('Labels (key=value, comma separated)').fill('tier=web');
        await page.getByLabel('Private key').check();
        await page.getByLabel('Private key (OpenSSH or PEM)').fill(readFileSync(lab.clientKeyPath, 'utf8'));
        await page.getByRole('button', { name: 'Add node' }).click();
        await page.getByRole('heading', { level: 1, name: 'Node n1' }).waitFor({ timeout: 60_000 });
        await page.locator('.state-ready').first().waitFor();
        const text = await main.innerText();
        assert.match(text, /Hostname\s+n1/);
        assert.match(text, /Debian/);
        assert.ok(text.includes(n1.hostKeyFingerprint));
        await shot(page, 'node-detail');
      },
    );

    await t.test(
      `the other ${NODES - 1} lab nodes join (by API) and a group is made in Settings`,
      async () => {
        await addLabNodesByApi(adminApi, lab, 'lab', 1);
        await openFromNav(page, 'Settings', 'Settings');
        await page.getByLabel('Group name').fill('web');
        await page.getByRole('button', { name: 'Create group' }).click();
        const row = page.getByRole('row', { name: /^web lab/ });
        await row.getByRole('button', { name: 'Set nodes' }).click();
        for (const n of ['n1', 'n2', 'n3']) await row.getByLabel(n, { exact: true }).check();
        await row.getByRole('button', { name: 'Save nodes' }).click();
        await page.getByRole('cell', { name: 'n1, n2, n3' }).waitFor();
        await page.getByLabel('Size name').fill('tiny');
        await page.getByLabel('CPU', { exact: true }).fill('250m');
        await page.getByLabel('Memory', { exact: true }).fill('256Mi');
        await page.getByLabel('Disk', { exact: true }).fill('1Gi');
        await page.getByRole('button', { name: 'Save size' }).click();
        await page.getByRole('row', { name: /^tiny 0\.25 cores 256 MiB 1\.0 GiB/ }).waitFor();
        await shot(page, 'settings');
      },
    );

    await t.test('the overview shows environment, group and nodes with health and capacity', async () => {
      await openFromNav(page, 'Overview', 'Overview');
      await page.getByRole('heading', { level: 3, name: 'lab' }).waitFor();
      // Counts are taken once the last item has rendered (the data arrives after the heading).
      await page
        .locator('.node-card')
        .nth(NODES - 1)
        .waitFor();
      const web = page.locator('details.group', { hasText: 'web' }).first();
      assert.equal(await web.locator('.node-card').count(), 3);
      assert.equal(await page.locator('.node-card').count(), NODES);
      // Per node: CPU and memory, each requested and used against allocatable.
      await page
        .getByRole('meter')
        .nth(NODES * 4 - 1)
        .waitFor();
      assert.equal(await page.getByRole('meter').count(), NODES * 4);
      await page.getByRole('meter', { name: 'CPU requested on n1', exact: true }).waitFor();
      await page.getByRole('meter', { name: 'Memory used on n20' }).waitFor();
      await shot(page, 'overview');
      await openFromNav(page, 'Nodes', 'Nodes');
      await page
        .locator('tbody tr')
        .nth(NODES - 1)
        .waitFor();
      assert.equal(await page.locator('tbody tr').count(), NODES);
      await shot(page, 'nodes');
    });

    let jobUrl = '';
    await t.test('run a command on two nodes and watch output and exit codes per node', async () => {
      await openFromNav(page, 'Run', 'Run');
      // A node's checkbox is labelled with its name and state, e.g. "n1 ready".
      await page.getByRole('group', { name: 'Nodes' }).getByLabel(/^n1 /).check();
      await page.getByRole('group', { name: 'Nodes' }).getByLabel(/^n2 /).check();
      await page
        .getByRole('textbox', { name: 'Command' })
        .fill('echo "out=$(hostname)"; sleep 1; test "$(hostname)" = n1');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      const job = page.locator('section.job').first();
      await page
        .locator('section.job[data-job-status="failed"], section.job[data-job-status="succeeded"]')
        .first()
        .waitFor({ timeout: 60_000 });
      const n1Task = job.locator('.task[data-node="n1"]');
      const n2Task = job.locator('.task[data-node="n2"]');
      assert.match(await n1Task.locator('.task-output').innerText(), /out=n1/);
      assert.match(await n2Task.locator('.task-output').innerText(), /out=n2/);
      assert.equal(await n1Task.locator('.task-exit').innerText(), '0');
      assert.equal(await n2Task.locator('.task-exit').innerText(), '1');
      assert.equal(await n1Task.getAttribute('data-status'), 'succeeded');
      assert.equal(await n2Task.getAttribute('data-status'), 'failed');
      jobUrl = (await job.getByRole('link', { name: /^Job / }).getAttribute('href')) ?? '';
      await shot(page, 'run');
    });

    await t.test('jobs list with progress, and the job page with its logs', async () => {
      await openFromNav(page, 'Jobs', 'Jobs');
      const row = page.locator('tbody tr').first();
      await row.getByRole('progressbar').waitFor();
      assert.match(await row.innerText(), /2 of 2 nodes/);
      await shot(page, 'jobs');
      await row.getByRole('link').first().click();
      await page.getByRole('heading', { level: 1, name: /^Job / }).waitFor();
      assert.equal(new URL(page.url()).pathname, jobUrl);
      await page.getByLabel('Output of n2').waitFor();
      assert.match(await page.getByLabel('Output of n2').innerText(), /out=n2/);
      await shot(page, 'job');
    });

    await t.test('deploy an app: the overcommit warning shows per-node numbers and is accepted', async () => {
      await api(adminApi, 'PUT', '/api/sizes/huge', { cpu: '64', memory: '64Mi', disk: '1Gi' });
      await openFromNav(page, 'Apps', 'Apps');
      await page.getByRole('link', { name: 'Deploy an app' }).click();
      await page.getByRole('heading', { level: 1, name: 'Deploy an app' }).waitFor();
      await page.getByLabel('App name').fill('hello');
      await page.getByLabel('Runs on group').selectOption('web');
      await page.getByLabel('Size').selectOption('huge');
      await page.getByLabel('Instances').fill('2');
      await page
        .getByLabel('Start command')
        .fill('while true; do echo "hello from $(hostname)"; sleep 1; done');
      // The placement preview follows the form live: a small size fits, the huge one overcommits 2 nodes.
      const preview = page.getByRole('table', { name: /Placement preview/ });
      await page.getByLabel('Size').selectOption('tiny');
      await preview.getByText('of tiny').waitFor();
      assert.equal(await preview.locator('tr[data-overcommit="yes"]').count(), 0);
      await page.getByLabel('Size').selectOption('huge');
      await preview.getByText('of huge').waitFor();
      assert.equal(await preview.locator('tr[data-overcommit="yes"]').count(), 2);
      assert.equal(await preview.locator('tbody tr').count(), 3);
      await page.getByRole('button', { name: 'Deploy', exact: true }).click();
      const warning = page.getByRole('heading', { name: /This deploy would overcommit 2 nodes/ });
      await warning.waitFor();
      const text = await page.locator('.overcommit-nodes').innerText();
      assert.match(text, /requested after placement: CPU 64.*allocatable: CPU \d/);
      // Nothing was deployed while the warning shows.
      assert.equal((await api(adminApi, 'GET', '/api/apps/hello')).app.releases.length, 0);
      assert.ok(await page.getByRole('button', { name: 'Deploy, accepting the overcommit' }).isDisabled());
      await shot(page, 'deploy-overcommit');
      await page.getByLabel('I accept overcommitting these nodes (this is audited)').check();
      await page.getByRole('button', { name: 'Deploy, accepting the overcommit' }).click();
      await page.getByRole('heading', { level: 1, name: 'App hello' }).waitFor();
    });

    await t.test('the instances run, with logs, and the app graph matches the collected series', async () => {
      await waitAppRunning(adminApi, 'hello', 2, 60_000);
      await page.reload();
      await page.getByRole('heading', { name: 'Instances' }).waitFor();
      await page.locator('tbody tr .state-running').nth(1).waitFor();
      await page
        .getByLabel(/^Log of /)
        .first()
        .waitFor();
      assert.match(
        await page
          .getByLabel(/^Log of /)
          .first()
          .innerText(),
        /hello from n\d/,
      );
      // Script instances run in their own cgroup, so the app's usage is collected (every second
      // here): wait until the series has points, then the page's CPU graph must draw them.
      let points = 0;
      for (let i = 0; i < 20 && points === 0; i++) {
        const to = Date.now();
        const series = await api(
          adminApi,
          'GET',
          `/api/metrics/series?scope=app&name=hello&metric=instance_cpu_millicores&from=${to - 3_600_000}&to=${to}`,
        );
        points = series.points.length;
        if (!points) await page.waitForTimeout(1500);
      }
      assert.ok(points > 0, 'the app has collected CPU points');
      await page.reload();
      const cpu = page.locator('figure.chart', { hasText: /^CPU/ });
      await cpu.locator('canvas').first().waitFor();
      t.diagnostic(`app CPU series points: ${points}`);
      await shot(page, 'app');
    });

    await t.test('roll back to the previous release', async () => {
      // A second release (an env change), made by API; the rollback is done in the page.
      const second = await api(adminApi, 'POST', '/api/apps/hello/deploy', {
        env: { GREETING: 'hi' },
        acceptOvercommit: true,
      });
      let job: any;
      for (let i = 0; i < 60; i++) {
        job = (await api(adminApi, 'GET', `/api/jobs/${second.jobId}`)).job;
        if (job.status !== 'running') break;
        await page.waitForTimeout(1000);
      }
      assert.equal(job.status, 'succeeded', JSON.stringify(job));
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'App hello' }).waitFor();
      await page.getByRole('button', { name: 'Roll back to the previous release' }).click();
      const row = page.getByRole('row', { name: /^3 (\(current\) )?rollback of 1/ });
      const alert = page.getByRole('alert');
      await row.or(alert).first().waitFor({ timeout: 30_000 });
      if (await alert.count()) {
        // The app is still overcommitted: the page asks again, and the operator accepts.
        assert.match(await alert.first().innerText(), /overcommit/, await alert.first().innerText());
        await page.getByLabel('I accept overcommitting these nodes (this is audited)').check();
        await page.getByRole('button', { name: 'Roll back to the previous release' }).click();
        await row.waitFor({ timeout: 30_000 });
      }
      await shot(page, 'app-rollback');
    });

    await t.test('a rolling OS update shows its plan and exact script before anything runs', async () => {
      await openFromNav(page, 'Nodes', 'Nodes');
      await page.getByRole('link', { name: 'Rolling OS update' }).click();
      await page.getByRole('group', { name: 'Groups' }).getByLabel(/web/).check();
      await page.getByRole('button', { name: 'Show the plan' }).click();
      const script = page.getByLabel('Update script');
      await script.waitFor();
      assert.match(await script.innerText(), /apt-get|apk/);
      assert.deepEqual(
        await page
          .locator('.plan-nodes li')
          .allInnerTexts()
          .then((l) => l.map((x) => x.split(' ')[0])),
        ['n1', 'n2', 'n3'],
      );
      await page.getByRole('button', { name: 'Run the update on 3 nodes' }).waitFor();
      await shot(page, 'update-plan');
    });

    await t.test('the node page draws usage graphs from collected metrics', async () => {
      await page.goto(server.url + '/nodes/n2');
      await page.getByRole('heading', { name: 'Usage' }).waitFor();
      // Collected every second: reload until the CPU graph has points (at most ~30 s).
      const cpu = page.getByRole('img', { name: /^CPU busy, last 1 hour/ });
      for (let i = 0; i < 15 && !(await cpu.count()); i++) {
        await page.waitForTimeout(2000);
        await page.reload();
        await page.getByRole('heading', { name: 'Usage' }).waitFor();
      }
      await cpu.locator('canvas').waitFor();
      await page
        .getByRole('img', { name: /^Memory, last 1 hour/ })
        .locator('canvas')
        .waitFor();
      const used = await page.getByRole('meter', { name: 'Memory used on n2' }).getAttribute('value');
      assert.ok(Number(used) > 0, `memory used on n2: ${used}`);
      await shot(page, 'node-usage');
    });

    await t.test('maintenance on and off from the node page', async () => {
      await page.goto(server.url + '/nodes/n2');
      await page.getByRole('button', { name: 'Start maintenance' }).click();
      await page.getByRole('button', { name: 'End maintenance' }).waitFor();
      assert.equal((await api(adminApi, 'GET', '/api/nodes/n2')).node.maintenance, true);
      await page.getByRole('button', { name: 'End maintenance' }).click();
      await page.getByRole('button', { name: 'Start maintenance' }).waitFor();
      assert.equal((await api(adminApi, 'GET', '/api/nodes/n2')).node.maintenance, false);
    });

    await t.test('open the terminal on n1 and run hostname', async () => {
      await page.goto(server.url + '/nodes/n1');
      await page.getByRole('link', { name: 'Open terminal' }).click();
      await page.getByRole('heading', { level: 1, name: 'Terminal on n1' }).waitFor();
      await page.locator('[data-status="open"]').waitFor({ timeout: 20_000 });
      await page.locator('.xterm-helper-textarea').focus();
      await page.keyboard.type('hostname');
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.xterm-rows > div')].some(
            (r) => r.textContent!.replace(/\u00a0/g, ' ').trim() === 'n1',
          ),
        undefined,
        { timeout: 20_000 },
      );
      assert.ok((await terminalLines(page)).includes('n1'));
      await shot(page, 'terminal');
      await page.keyboard.type('exit');
      await page.keyboard.press('Enter');
      await page.locator('[data-status="closed"]').waitFor({ timeout: 20_000 });
    });

    await t.test(
      'the audit log shows the node added, the run, maintenance and the terminal session',
      async () => {
        await openFromNav(page, 'Audit', 'Audit log');
        for (const re of [
          /createNode.*n1/,
          /createRun/,
          /deployApp.*hello/,
          /rollbackApp.*hello/,
          /updateNode.*n2/,
          /terminal\.start.*n1/,
          /terminal\.end.*n1/,
        ])
          await page.getByRole('row', { name: re }).first().waitFor();
        const end = (await api(adminApi, 'GET', '/api/audit?action=terminal.end')).entries[0];
        assert.equal(end.actor, 'admin');
        assert.ok(end.details.durationMs >= 0);
        await shot(page, 'audit');
      },
    );

    await t.test(`each main page renders with ${NODES} nodes (timings reported, not asserted)`, async () => {
      const pages: Array<[string, string, () => Promise<unknown>]> = [
        [
          '/',
          'overview',
          () =>
            page
              .locator('.node-card')
              .nth(NODES - 1)
              .waitFor(),
        ],
        [
          '/nodes',
          'nodes',
          () =>
            page
              .locator('tbody tr')
              .nth(NODES - 1)
              .waitFor(),
        ],
        ['/nodes/n1', 'node', () => page.getByRole('heading', { name: 'Disks' }).waitFor()],
        ['/run', 'run', () => page.getByLabel(new RegExp(`^n${NODES} `)).waitFor()],
        ['/jobs', 'jobs', () => page.locator('tbody tr').first().waitFor()],
        ['/apps', 'apps', () => page.getByRole('link', { name: 'hello' }).waitFor()],
        ['/apps/hello', 'app', () => page.getByRole('heading', { name: 'Releases' }).waitFor()],
        ['/audit', 'audit', () => page.locator('.audit-table tbody tr').first().waitFor()],
        ['/settings', 'settings', () => page.getByRole('heading', { name: 'Groups' }).waitFor()],
      ];
      const timings: Record<string, number> = {};
      for (const [path, name, ready] of pages) {
        const t0 = Date.now();
        await page.goto(server.url + path);
        await ready();
        timings[name] = Date.now() - t0;
      }
      console.log(
        `# page render times (ms, full load to content, ${NODES} nodes): ${JSON.stringify(timings)}`,
      );
      t.diagnostic(`page render ms: ${JSON.stringify(timings)}`);
    });

    await t.test('no console errors or CSP violations on the admin pages', () => {
      assert.deepEqual(admin.problems, []);
    });

    await t.test(
      'a viewer sees no mutating control and no terminal, and the server refuses them',
      async () => {
        await api(adminApi, 'POST', '/api/users', { ...VIEWER, role: 'viewer' });
        const viewer = await newPage(browser, allowed);
        const vp = viewer.page;
        await vp.goto(server.url + '/nodes');
        await login(vp, VIEWER.username, VIEWER.password);
        await vp.getByRole('heading', { level: 1, name: 'Nodes' }).waitFor();
        await vp
          .locator('tbody tr')
          .nth(NODES - 1)
          .waitFor();
        for (const name of ['Add node', 'Rolling OS update'])
          assert.equal(await vp.getByRole('link', { name }).count(), 0, `viewer sees "${name}"`);
        await vp.goto(server.url + '/apps/hello');
        await vp.getByRole('heading', { name: 'Releases' }).waitFor();
        assert.equal(await vp.getByRole('heading', { name: 'Operations' }).count(), 0);
        for (const name of ['Scale', 'Roll back to the previous release', 'Delete app'])
          assert.equal(await vp.getByRole('button', { name }).count(), 0, `viewer sees "${name}"`);
        await openFromNav(vp, 'Apps', 'Apps');
        await vp.getByRole('link', { name: 'hello' }).waitFor();
        assert.equal(await vp.getByRole('link', { name: 'Deploy an app' }).count(), 0);
        await vp.goto(server.url + '/nodes/n1');
        await vp.getByRole('heading', { name: 'Disks' }).waitFor();
        assert.equal(await vp.getByRole('link', { name: 'Open terminal' }).count(), 0);
        // Only the graphs' range pickers: nothing that changes anything.
        assert.equal(
          await vp.locator('main button:not(.chart-range)').count(),
          0,
          'a viewer has buttons on a node page',
        );
        await shot(vp, 'node-viewer');
        await openFromNav(vp, 'Run', 'Run');
        await vp.getByText('Only operators and admins run commands.').waitFor();
        assert.equal(await vp.getByRole('button', { name: 'Run' }).count(), 0);
        await openFromNav(vp, 'Settings', 'Settings');
        await vp.getByRole('heading', { name: 'Groups' }).waitFor();
        for (const name of ['Create environment', 'Create group', 'Set nodes', 'Delete', 'Save size'])
          assert.equal(await vp.getByRole('button', { name }).count(), 0, `viewer sees "${name}"`);
        await vp.goto(server.url + '/nodes/n1/terminal');
        await vp.getByText('Only admins open terminals on nodes.').waitFor();
        // The server refuses too, whatever the page shows: a run, a node change, a terminal socket.
        const refused = await vp.evaluate(async () => {
          const who = await (await fetch('/api/auth/whoami')).json();
          const headers = { 'content-type': 'application/json', 'x-csrf-token': who.csrfToken };
          const run = await fetch('/api/runs', {
            method: 'POST',
            headers,
            body: JSON.stringify({ target: { nodes: ['n1'] }, command: 'true' }),
          });
          const patch = await fetch('/api/nodes/n2', {
            method: 'PATCH',
            headers,
            body: JSON.stringify({ maintenance: true }),
          });
          const ws = await new Promise<string>((resolve) => {
            const s = new WebSocket(`ws://${location.host}/api/nodes/n1/terminal`);
            s.onopen = () => resolve('opened');
            s.onclose = () => resolve('refused');
          });
          return { run: run.status, patch: patch.status, ws };
        });
        assert.deepEqual(refused, { run: 403, patch: 403, ws: 'refused' });
        assert.deepEqual(viewer.problems, []);
      },
    );
  },
);
