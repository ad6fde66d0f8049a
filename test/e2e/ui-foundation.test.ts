import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO, startGrimServer, type GrimServer } from '../helpers/grim-process.ts';
import { allowHttpErrors, launchBrowser, watchPage } from '../helpers/browser.ts';
import { ensureWebBuilt } from './web-build.ts';

const ADMIN_PASSWORD = 'admin-password-123';
const VIEWER = { username: 'vera', password: 'viewer-password-123' };
const SHOTS = join(REPO, 'test-artifacts/screenshots');

// Expected failures the browser logs as console errors: the session check before login,
// the wrong password, the too-short password, the rate limit.
const expectedHttpErrors = allowHttpErrors([
  { status: 401, path: '/api/auth/whoami' },
  { status: 400, path: '/api/users' },
  { status: 401, path: '/api/auth/login' },
  { status: 429, path: '/api/auth/login' },
]);

async function newPage(browser: Browser): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const problems = await watchPage(page, expectedHttpErrors);
  return { ctx, page, problems };
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function openFromNav(page: Page, label: string, heading: string) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function login(page: Page, username: string, password: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('web UI foundation in a real browser', { timeout: 240_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  ensureWebBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const server: GrimServer = await startGrimServer({ GRIM_ADMIN_PASSWORD: ADMIN_PASSWORD });
  t.after(() => server.stop());
  const probe = await fetch(server.url + '/', { headers: { accept: 'text/html' } });
  assert.equal(
    probe.status,
    200,
    `grim does not serve the web UI at / (HTTP ${probe.status}): is registerWeb(app) called in buildApp?`,
  );

  const admin = await newPage(browser);
  await admin.ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = admin.page;
  let tokenSecret = '';

  await t.test('the login form shows the server message for a wrong password', async () => {
    await page.goto(server.url + '/');
    await page.getByRole('heading', { name: 'grim' }).waitFor();
    await shot(page, 'login');
    await login(page, 'admin', 'not-the-password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /wrong username or password/);
    await shot(page, 'login-error');
  });

  await t.test('logging in with the keyboard shows the navigation, user and role', async () => {
    await page.getByLabel('Username').fill('');
    await page.getByLabel('Username').focus();
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    const labels = await nav.getByRole('link').allInnerTexts();
    assert.deepEqual(labels, [
      'Overview',
      'Nodes',
      'Run',
      'Apps',
      'Volumes',
      'Storage',
      'Storage clusters',
      'Pipelines',
      'Alerts',
      'Jobs',
      'Audit',
      'Users & tokens',
      'Settings',
    ]);
    const header = await page.locator('header').innerText();
    assert.match(header, /admin/);
    assert.equal(await page.locator('header .role-badge').textContent(), 'role: admin');
    assert.equal(await nav.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'), 'page');
  });

  await t.test('the volumes page lists volume copies, and says so when there are none', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Volumes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Volumes' }).waitFor();
    await page.getByText('No volumes yet').waitFor();
    await nav.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  });

  await t.test('overview and nodes show the empty state for nodes', async () => {
    const empty = 'No nodes yet';
    await page.getByText(empty).first().waitFor();
    assert.match(await page.locator('main').innerText(), /grim lab up/);
    await page.locator('[data-chain="intact"]').waitFor();
    await shot(page, 'overview');
    await openFromNav(page, 'Nodes', 'Nodes');
    await page.getByText(empty).waitFor();
    await shot(page, 'nodes');
    for (const [label, text, name] of [
      ['Run', 'there is nothing to run on', 'run'],
      ['Apps', 'No apps deployed yet', 'apps'],
      ['Storage', 'No storage nodes yet', 'storage'],
      ['Jobs', 'No jobs yet', 'jobs'],
    ]) {
      await openFromNav(page, label, label);
      await page.getByText(text).waitFor();
      await shot(page, name);
    }
  });

  await t.test('the overview shows which instance holds which lease', async () => {
    const cp = (await page.evaluate(async () => (await fetch('/api/control-plane')).json())) as {
      self: string;
    };
    const row = page.locator(`[data-lease="loop:reconciler"][data-holder="${cp.self}"]`);
    for (let i = 0; !(await row.count()); i++) {
      assert.ok(i < 20, 'the reconciler lease shows up with its holder');
      await openFromNav(page, 'Overview', 'Overview');
      await page.getByRole('table', { name: 'Leases' }).waitFor();
    }
    assert.match(await row.innerText(), new RegExp(`loop:reconciler\\s+${cp.self}\\s+\\d+\\s+in `));
    const me = page.getByRole('table', { name: 'Instances' }).locator(`[data-instance="${cp.self}"]`);
    assert.match(await me.innerText(), /\(this one\)[\s\S]*running/);
    await shot(page, 'overview-control-plane');
  });

  await t.test('an admin creates a user', async () => {
    await openFromNav(page, 'Users & tokens', 'Users & tokens');
    await page.getByLabel('Username').fill(VIEWER.username);
    await page.getByLabel('Password (12+ characters)').fill('short');
    await page.getByLabel('Role', { exact: true }).first().selectOption('viewer');
    await page.getByRole('button', { name: 'Create user' }).click();
    // The server's validation message and its details list are shown.
    const error = page.getByRole('alert');
    await error.waitFor();
    assert.match(await error.innerText(), /The user was not created/);
    assert.match(await error.innerText(), /body\/password/);
    await page.getByLabel('Password (12+ characters)').fill(VIEWER.password);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: VIEWER.username, exact: true }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  await t.test('an admin creates a token; the secret is shown once and copies', async () => {
    await page.getByLabel('Token name').fill('ci-token');
    await page.getByLabel('Expires after').selectOption('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.getByLabel('Token secret');
    await secret.waitFor();
    tokenSecret = await secret.inputValue();
    assert.ok(tokenSecret.length >= 20, `secret looks too short: ${tokenSecret}`);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied', { exact: true }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), tokenSecret);
    await shot(page, 'users');
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByLabel('Token secret').count(), 0);
    assert.ok(!(await page.locator('main').innerText()).includes(tokenSecret), 'secret still on the page');
    const row = page.getByRole('row', { name: /ci-token/ });
    const prefix = (await row.locator('code').innerText()).replace('…', '');
    assert.ok(tokenSecret.startsWith(prefix), `prefix ${prefix} is not the start of the secret`);
    // The secret really works as a bearer token.
    const res = await fetch(server.url + '/api/auth/whoami', {
      headers: { authorization: `Bearer ${tokenSecret}` },
    });
    assert.equal(res.status, 200);
  });

  await t.test('the audit page lists those actions and the chain is intact', async () => {
    await openFromNav(page, 'Audit', 'Audit log');
    const chain = page.locator('[data-chain="intact"]');
    await chain.waitFor();
    assert.match(await chain.innerText(), /Audit chain intact/);
    await page
      .getByRole('row', { name: /createUser.*vera/ })
      .first()
      .waitFor();
    await page
      .getByRole('row', { name: /createToken.*ci-token/ })
      .first()
      .waitFor();
    // Newest first.
    const seqs = (await page.locator('.audit-table tbody tr td:first-child').allInnerTexts()).map(Number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => b - a),
    );
    await shot(page, 'audit');
    await page.getByLabel('Action').fill('createUser');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.audit-table tbody tr')].every((r) =>
        r.textContent!.includes('createUser'),
      ),
    );
    const rows = await page.locator('.audit-table tbody tr').count();
    assert.ok(rows >= 2, `expected the failed and the successful createUser, got ${rows}`);
    await page.getByLabel('Outcome').selectOption('failure');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.audit-table tbody tr').length === 1);
    await page.getByRole('button', { name: 'Reset' }).click();
  });

  await t.test('a reload on a deep link keeps the page (history routing)', async () => {
    await page.goto(server.url + '/settings');
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    assert.match(await page.locator('main').innerText(), /password \(browser session\)/);
    await shot(page, 'settings');
  });

  await t.test('logging out returns to the login form, and stays out after a reload', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  await t.test('repeated failures show the rate-limit message', async () => {
    let status = 0;
    for (let i = 0; i < 6 && status !== 429; i++) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await login(page, 'mallory', `guess-${i}`);
      status = (await answer).status();
    }
    assert.equal(status, 429, 'the sixth failed login for one user is rate-limited');
    await page.getByText('Too many attempts.').waitFor();
    const text = await page.getByRole('alert').innerText();
    assert.match(text, /Too many attempts/);
    assert.match(text, /too many login attempts; try again in \d+ s/);
    await shot(page, 'login-rate-limited');
  });

  await t.test('no console errors or CSP violations on the admin pages', () => {
    assert.deepEqual(admin.problems, []);
  });

  const viewer = await newPage(browser);
  await t.test('a viewer sees no create, disable or delete controls', async () => {
    const vp = viewer.page;
    await vp.goto(server.url + '/users');
    await login(vp, VIEWER.username, VIEWER.password);
    await vp.getByRole('heading', { level: 1, name: 'Users & tokens' }).waitFor();
    assert.equal(await vp.locator('header .role-badge').textContent(), 'role: viewer');
    await vp.getByText('Only admins manage users.').waitFor();
    for (const name of ['Create user', 'Delete', 'Disable', 'Enable'])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, `viewer sees a "${name}" button`);
    assert.equal(await vp.getByRole('heading', { name: 'Users', exact: true }).count(), 0);
    // A viewer's token can only be a viewer token.
    const roles = await vp.getByLabel('Role', { exact: true }).locator('option').allInnerTexts();
    assert.deepEqual(roles, ['viewer']);
    await shot(vp, 'users-viewer');
    await openFromNav(vp, 'Audit', 'Audit log');
    await vp.locator('[data-chain="intact"]').waitFor();
    assert.deepEqual(viewer.problems, []);
  });
});
