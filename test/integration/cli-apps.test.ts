// The CLI against a real grim server: apps get every runtime, source and network option the API has (typed
// bodies, choices from the domain's lists), nouns share create/show/list/delete (old verbs still work), and
// ip-pools have their verbs. No lab: defining an app and managing pools runs nothing on nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGrimServer, grim, cliEnv } from '../helpers/grim-process.ts';
import { RUNTIMES } from '../../src/domain/runtimes.ts';

const PASSWORD = 'cli-apps-test-password';

test('CLI: apps with every runtime, source and network option; ip-pool verbs; matching verbs', async (t) => {
  const srv = await startGrimServer({ GRIM_ADMIN_PASSWORD: PASSWORD });
  const dir = mkdtempSync(join(tmpdir(), 'grim-cli-apps-'));
  t.after(async () => {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = cliEnv();
  const ok = async (args: string[], stdin?: string) => {
    const r = await grim(args, env, stdin);
    assert.equal(r.code, 0, `grim ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const json = async (args: string[]) => JSON.parse((await ok([...args, '--json'])).stdout);
  await ok(['login', '--server', srv.url, '--username', 'admin', '--password-stdin'], `${PASSWORD}\n`);
  await ok(['env', 'create', 'prod']);
  await ok(['group', 'create', 'web', '--env', 'prod']);

  // Every runtime is offered, from the domain's list; a runtime the API does not have is refused by the CLI.
  const help = (await ok(['app', 'create', '--help'])).stdout.replace(/\s+/g, ' ');
  for (const r of RUNTIMES) assert.ok(help.includes(`"${r}"`), `--runtime offers ${r}`);
  for (const flag of ['--tarball', '--tarball-runtime', '--command', '--network', '--image', '--start'])
    assert.ok(help.includes(flag), `app create offers ${flag}`);
  const wrong = await grim(
    ['app', 'create', 'x', '--environment', 'prod', '--group', 'web', '--runtime', 'kvm'],
    env,
  );
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /--runtime <kind>' argument 'kvm' is invalid/);

  // A tarball microVM app: source (tarball + runtime + command), runtime and network all reach the server.
  const vm = await json([
    'app',
    'create',
    'site',
    '--environment',
    'prod',
    '--group',
    'web',
    '--runtime',
    'firecracker',
    '--tarball',
    'https://artifacts.example/site-1.tgz',
    '--tarball-runtime',
    'alpine',
    '--command',
    '/bin/sh',
    '--command',
    '/app/serve.sh',
    '--network',
    'bridged',
    '--failover',
    'reschedule',
    '--port',
    'http:8080',
    '--cpu',
    '500m',
    '--memory',
    '256Mi',
    '--disk',
    '1Gi',
  ]);
  assert.equal(vm.app.runtime, 'firecracker');
  assert.deepEqual(vm.app.source, {
    kind: 'tarball',
    tarball: 'https://artifacts.example/site-1.tgz',
    runtime: 'alpine',
    command: ['/bin/sh', '/app/serve.sh'],
  });
  assert.equal(vm.app.network, 'bridged');
  assert.equal(vm.app.failover, 'reschedule');
  // A tarball without its runtime image or command is caught before anything is sent.
  const partial = await grim(
    ['app', 'create', 'half', '--environment', 'prod', '--group', 'web', '--tarball', 'https://a/b.tgz'],
    env,
  );
  assert.notEqual(partial.code, 0);
  assert.match(partial.stderr, /--tarball needs --tarball-runtime/);
  // The runtime follows from the source when none is given; the server still judges the pair.
  const start = join(dir, 'start.sh');
  writeFileSync(start, 'exec sleep 1000\n');
  const inWeb = (name: string, ...more: string[]) => [
    'app',
    'create',
    name,
    '--environment',
    'prod',
    '--group',
    'web',
    '--size',
    'xs',
    ...more,
  ];
  const script = await json(inWeb('job', '--start', start));
  assert.equal(script.app.runtime, 'script');
  assert.deepEqual(script.app.source, { kind: 'script', start: 'exec sleep 1000\n' });
  const mismatch = await grim(inWeb('odd', '--runtime', 'container', '--start', start), env);
  assert.notEqual(mismatch.code, 0);
  assert.match(mismatch.stderr, /the container runtime needs an image source/);

  // show / list, and the old `status` verb for scripts.
  assert.equal((await json(['app', 'show', 'site'])).name, 'site');
  assert.deepEqual((await json(['app', 'list'])).map((a: { name: string }) => a.name).sort(), [
    'job',
    'site',
  ]);
  assert.equal((await json(['app', 'status', 'site'])).name, 'site');

  // ip-pool: create (or change), list, show, delete; a pool in no scope or an invalid one is refused.
  const pool = await json([
    'ip-pool',
    'create',
    'lan',
    '--cidr',
    '192.168.77.0/24',
    '--gateway',
    '192.168.77.1',
    '--exclude',
    '192.168.77.2',
    '--environment',
    'prod',
  ]);
  assert.deepEqual(pool.pool, {
    id: 'lan',
    cidr: '192.168.77.0/24',
    gateway: '192.168.77.1',
    excluded: ['192.168.77.2'],
    scope: { kind: 'environment', id: 'prod' },
  });
  const noScope = await grim(
    ['ip-pool', 'create', 'x', '--cidr', '10.1.0.0/24', '--gateway', '10.1.0.1'],
    env,
  );
  assert.match(noScope.stderr, /exactly one of --environment, --group or --node/);
  const bad = await grim(
    ['ip-pool', 'create', 'y', '--cidr', '10.2.0.0/24', '--gateway', '10.9.9.9', '--group', 'web'],
    env,
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /gateway/);
  const listed = await json(['ip-pool', 'list']);
  assert.deepEqual(
    listed.pools.map((p: { id: string; used: unknown[] }) => [p.id, p.used]),
    [['lan', []]],
  );
  assert.equal((await json(['ip-pool', 'show', 'lan'])).pool.gateway, '192.168.77.1');
  assert.match(
    (await ok(['ip-pools', 'list'])).stdout,
    /lan\s+192\.168\.77\.0\/24\s+192\.168\.77\.1\s+environment prod/,
  );
  await ok(['ip-pool', 'delete', 'lan']);
  assert.deepEqual((await json(['ip-pool', 'list'])).pools, []);
  const gone = await grim(['ip-pool', 'delete', 'lan'], env);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /IP pool lan not found/);

  // Matching verbs across nouns, old verbs kept as aliases.
  await ok(['user', 'create', 'carol', '--role', 'viewer', '--password-stdin'], 'carols-long-password\n');
  const tok = await json(['token', 'create', '--name', 'ci', '--role', 'viewer']);
  await ok(['token', 'delete', tok.token.id]);
  await ok(['size', 'create', 'tiny', '--cpu', '100m', '--memory', '64Mi', '--disk', '256Mi']);
  assert.match((await ok(['node', '--help'])).stdout, /create\|add \[options\] <name> <address>/);
});
