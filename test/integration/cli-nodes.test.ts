import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGrimServer, grim, cliEnv } from '../helpers/grim-process.ts';
import { uniqueLabName } from '../helpers/lab.ts';
import { checkLabPrerequisites, labDown } from '../../src/lab/lab.ts';

test('CLI: lab up --register, node list, run streams per node, update --dry-run shows the script', async (t) => {
  const missing = await checkLabPrerequisites();
  if (missing.length) {
    if (process.env.CI) throw new Error(`lab prerequisites missing in CI: ${missing.join('; ')}`);
    t.skip(missing.join('; '));
    return;
  }
  const srv = await startGrimServer({ GRIM_ADMIN_PASSWORD: 'cli-nodes-password' });
  t.after(() => srv.stop());
  const name = uniqueLabName();
  t.after(() => labDown(name));
  const env = cliEnv();
  assert.equal(
    (await grim(['login', '--server', srv.url, '--password-stdin'], env, 'cli-nodes-password\n')).code,
    0,
  );

  const up = await grim(['lab', 'up', '--name', name, '--nodes', '2', '--register'], env);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  assert.match(up.stdout, new RegExp(`registered ${name}-n1`));

  const list = await grim(['node', 'list', '--json'], env);
  const nodes = JSON.parse(list.stdout).nodes;
  assert.deepEqual(
    nodes.map((n: any) => n.name),
    [`${name}-n1`, `${name}-n2`],
  );
  assert.ok(nodes.every((n: any) => n.state === 'ready'));

  const run = await grim(['run', `group:lab-${name}`, '--', 'echo', 'hello from $(hostname)'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^${name}-n1: hello from n1$`, 'm'));
  assert.match(run.stdout, new RegExp(`^${name}-n2: hello from n2$`, 'm'));
  assert.match(run.stderr, /succeeded \(exit 0/);

  const fail = await grim(['run', `${name}-n1`, '--', 'exit 3'], env);
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, /failed \(exit 3/);

  const dry = await grim(['node', 'update', `group:lab-${name}`, '--dry-run', '--no-refresh'], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /--- script ---/);
  assert.match(dry.stdout, /apt-get -y -q/);
  assert.match(dry.stdout, /"REFRESH":"0"/);

  const add = await grim(['node', 'add', 'x1', '10.0.0.1;reboot', '--env', 'lab', '--yes'], env);
  assert.notEqual(add.code, 0);
  assert.match(add.stderr, /body\/address/);
});
