// grim installed like real software: `npm pack`, the tarball installed into a clean prefix (offline, from the
// npm cache that scripts/dev/setup.sh --test warms), the `grim` launcher on the Node 24 of the `node`
// dependency, a server from that install answering /readyz; `grim install-service` writing a systemd unit
// that `systemd-analyze verify` accepts and an OpenRC service that shellcheck accepts; and `grim upgrade`
// to a deliberately broken package (it migrates, then never becomes ready) rolling back by itself: the old
// version serves again, with its data and without the broken migration.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { REPO, startGrimServer } from '../helpers/grim-process.ts';

const exec = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

async function login(url: string, username: string, password: string) {
  const r = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return {
    status: r.status,
    cookie: String(r.headers.get('set-cookie')).split(';')[0],
    body: await r.json(),
  };
}

function lockHolderPid(dataDir: string): number {
  return Number(/pid (\d+)/.exec(readFileSync(join(dataDir, 'grim.lock.holder'), 'utf8'))?.[1]);
}

test('npm pack, install into a clean prefix, install-service, upgrade to a broken package rolls back', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'grim-pkg-'));
  const prefix = join(tmp, 'prefix');
  const pids: number[] = [];
  t.after(() => {
    for (const pid of pids)
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    rmSync(tmp, { recursive: true, force: true });
  });

  // 1. The tarball: compiled lib/, the web UI, the node scripts, the launcher; Node 24 comes as a dependency.
  const packed = await exec('npm', ['pack', '--pack-destination', tmp, '--json'], {
    cwd: REPO,
    maxBuffer: 64 << 20,
  });
  // npm prints the prepack build's output first; the JSON report is the array that starts a line at the end.
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[\s*$/m))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const files = new Set(info.files.map((f) => f.path));
  for (const f of ['bin/grim', 'lib/cli/main.js', 'lib/web/dist/index.html', 'scripts/node/facts.sh'])
    assert.ok(files.has(f), `the package holds ${f}`);
  const tarball = join(tmp, info.filename);
  const npmInstall = (pkg: string) =>
    exec('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', pkg], {
      maxBuffer: 64 << 20,
    });
  await npmInstall(tarball);
  const grimBin = join(prefix, 'bin', 'grim');
  assert.equal((await exec(grimBin, ['--version'])).stdout.trim(), VERSION);
  const nodeVersion = await exec(grimBin, ['--version'], { env: { ...process.env, PATH: '/usr/bin:/bin' } });
  assert.equal(
    nodeVersion.stdout.trim(),
    VERSION,
    'the launcher runs its own Node 24, not the older node on PATH',
  );
  const ownNode = join(prefix, 'lib/node_modules/grim/node_modules/node/bin/node');
  assert.match((await exec(ownNode, ['--version'])).stdout, /^v24\./, 'the node dependency is Node 24');

  // 2. A server from the installed package, on SQLite, with some data.
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  const srv = await startGrimServer(
    { GRIM_ADMIN_PASSWORD: 'pkg-admin-password' },
    { command: [grimBin], dataDir },
  );
  t.after(() => srv.stop('SIGKILL'));
  const ready = await (await fetch(`${srv.url}/readyz`)).json();
  assert.deepEqual(ready, { status: 'ready', version: VERSION });
  assert.match(await (await fetch(`${srv.url}/`)).text(), /<div id="root">/, 'the web UI is in the package');
  const admin = await login(srv.url, 'admin', 'pkg-admin-password');
  assert.equal(admin.status, 200);
  const created = await fetch(`${srv.url}/api/users`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: admin.cookie,
      'x-csrf-token': admin.body.csrfToken,
    },
    body: JSON.stringify({ username: 'keepme', password: 'keepme-password-1', role: 'viewer' }),
  });
  assert.equal(created.status, 201);

  // 3. install-service: a unit systemd-analyze accepts (and it would refuse a broken one), an OpenRC service.
  const root = join(tmp, 'root');
  await exec(grimBin, [
    'install-service',
    ...['--kind', 'systemd', '--root', root, '--data-dir', '/var/lib/grim', '--listen', '0.0.0.0:8443'],
  ]);
  const unit = join(root, 'etc/systemd/system/grim.service');
  const unitText = readFileSync(unit, 'utf8');
  assert.match(unitText, new RegExp(`^ExecStart=${prefix}/lib/node_modules/grim/bin/grim server$`, 'm'));
  assert.match(unitText, /^StandardOutput=journal$/m);
  assert.match(readFileSync(join(root, 'etc/default/grim'), 'utf8'), /^GRIM_LISTEN='0\.0\.0\.0:8443'$/m);
  await exec('systemd-analyze', ['verify', unit]);
  const broken = join(tmp, 'broken.service');
  writeFileSync(broken, unitText.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/grim'));
  await assert.rejects(exec('systemd-analyze', ['verify', broken]), /not executable/);
  await exec(grimBin, ['install-service', '--kind', 'openrc', '--root', root, '--data-dir', '/var/lib/grim']);
  const initScript = join(root, 'etc/init.d/grim');
  assert.match(readFileSync(initScript, 'utf8'), /^#!\/sbin\/openrc-run/);
  const confPath = join(root, 'etc/conf.d/grim');
  await exec('shellcheck', ['--shell=sh', initScript]);
  await exec('shellcheck', ['--shell=sh', '--exclude=SC2034', confPath]); // variables for openrc-run
  const sourced = await exec('sh', ['-c', '. "$1" && echo "$GRIM_BIN $GRIM_DATA_DIR"', 'sh', confPath]);
  assert.equal(sourced.stdout.trim(), `${prefix}/lib/node_modules/grim/bin/grim /var/lib/grim`);
  const refused = await exec(grimBin, [
    'install-service',
    '--kind',
    'systemd',
    '--root',
    root,
    '--user',
    'a b',
  ]).then(
    () => null,
    (e: { stderr: string }) => e.stderr,
  );
  assert.match(refused ?? '', /invalid user name/);

  // 4. A broken next version: it adds a migration, then its /readyz never answers 200.
  const work = join(tmp, 'broken');
  mkdirSync(work);
  await exec('tar', ['xzf', tarball, '-C', work]);
  const pkgDir = join(work, 'package');
  const pkgJson = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  pkgJson.version = `${VERSION}-broken`;
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkgJson, null, 2));
  writeFileSync(
    join(pkgDir, 'lib/store/migrations/9999_upgrade_probe.js'),
    "export default { name: '9999_upgrade_probe', up: () => ['CREATE TABLE upgrade_probe (id INTEGER)'] };\n",
  );
  const routes = join(pkgDir, 'lib/server/system-routes.js');
  const routesText = readFileSync(routes, 'utf8');
  assert.match(routesText, /await services\.db\.ping\(\);/);
  writeFileSync(
    routes,
    routesText.replace('await services.db.ping();', "throw new Error('broken on purpose');"),
  );
  const brokenTgz = join(tmp, 'grim-broken.tgz');
  await exec('tar', ['czf', brokenTgz, '-C', work, 'package']);

  // 5. The upgrade: backup, install, start (the migration runs), not ready -> rolled back by itself.
  const upgraded = await exec(
    grimBin,
    ['upgrade', brokenTgz, '--service', 'process', '--url', srv.url, '--timeout', '8', '--offline'],
    { env: { ...process.env, GRIM_DATA_DIR: dataDir }, maxBuffer: 64 << 20 },
  ).then(
    () => assert.fail('the upgrade to a broken package must fail'),
    (e: { code: number; stdout: string }) => e,
  );
  const newPid = lockHolderPid(dataDir);
  pids.push(newPid);
  assert.equal(upgraded.code, 2, upgraded.stdout);
  assert.match(upgraded.stdout, /backup written to .*pre-upgrade-/);
  assert.match(upgraded.stdout, new RegExp(`installed grim ${VERSION}-broken`));
  assert.match(upgraded.stdout, /did not become ready within 8 s; rolling back/);
  assert.match(upgraded.stdout, new RegExp(`rolled back: grim ${VERSION} serves again`));
  assert.equal(
    srv.proc.exitCode !== null || srv.proc.signalCode !== null,
    true,
    'the old process was stopped',
  );
  assert.notEqual(newPid, srv.proc.pid, 'a new server process serves');
  assert.deepEqual(await (await fetch(`${srv.url}/readyz`)).json(), { status: 'ready', version: VERSION });
  assert.equal((await exec(grimBin, ['--version'])).stdout.trim(), VERSION, 'the old package is back');
  assert.equal(
    (await login(srv.url, 'keepme', 'keepme-password-1')).status,
    200,
    'data from before survives',
  );
  const db = new DatabaseSync(join(dataDir, 'grim.db'), { readOnly: true });
  const probe = db.prepare("SELECT name FROM sqlite_master WHERE name = 'upgrade_probe'").all();
  db.close();
  assert.deepEqual(probe, [], "the broken version's migration was rolled back with the database");
  assert.ok(!existsSync(join(prefix, 'lib/node_modules/.grim-previous')));
});
