// Pipelines without Buildbot running: hostile input refused with every problem listed and nothing stored,
// webhook signatures of the three providers, replays refused and audited, the deployer role's limits, and the
// generated master.cfg carrying user values only as Python literals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { branchProblems, checkPipeline, repoUrlProblems } from '../../src/domain/pipelines.ts';
import { signWebhook, verifyWebhook } from '../../src/domain/webhooks.ts';
import { renderMasterCfg } from '../../src/services/pipelines/master-cfg.ts';
import { startTestApp } from '../helpers/app.ts';

const ROOTS = ['/srv/git'];

test('repository URLs: transport helpers, options, file:// outside the allowlist and dash tricks are refused', () => {
  for (const ok of [
    'https://git.example.com/team/app.git',
    'ssh://git@git.example.com:2222/team/app.git',
    'git://10.0.0.2/app.git',
    'git@github.com:team/app.git',
    'file:///srv/git/app.git',
  ])
    assert.deepEqual(repoUrlProblems(ok, ROOTS), [], ok);
  for (const bad of [
    'ext::sh -c touch% /tmp/pwned',
    'fd::17',
    '--upload-pack=touch /tmp/pwned',
    'https://x/y.git --upload-pack=evil',
    '-u evil',
    'ssh://-oProxyCommand=evil/x',
    '-oProxyCommand=evil:x',
    'file:///etc/passwd',
    'file:///srv/git/../../etc',
    'file:///srv/gitx/app.git',
    'ftp://x/y',
    'https://x/$(id).git',
    'https://user:password@x/y.git',
    'https://x/y.git\nhttps://z',
    '',
  ])
    assert.notDeepEqual(repoUrlProblems(bad, ROOTS), [], JSON.stringify(bad));
  assert.match(repoUrlProblems('file:///srv/git/a.git', [])[0], /not allowed/);
});

test('branch names follow git check-ref-format and never look like options', () => {
  for (const ok of ['main', 'release/2.0', 'feature-x_1']) assert.deepEqual(branchProblems(ok), [], ok);
  for (const bad of [
    '-f',
    '--upload-pack=x',
    'a..b',
    'a b',
    'x~1',
    'x^',
    'a:b',
    'x.lock',
    '.hidden',
    'a//b',
    '@',
    'a@{1}',
    'x;id',
    '',
  ])
    assert.notDeepEqual(branchProblems(bad), [], JSON.stringify(bad));
});

test('checkPipeline lists every problem at once', () => {
  const r = checkPipeline(
    {
      name: '../Bad Name',
      repo: 'ext::sh -c id',
      branch: '--force',
      app: 'APP!',
      build: { kind: 'dockerfile', dockerfile: '../../etc/passwd' },
      buildArgs: { 'BAD NAME': 'x', OK: 'line\nbreak', '-x': 'y' },
      testCommand: '',
      pollSeconds: 1,
    },
    ROOTS,
  );
  assert.equal(r.ok, false);
  const paths = new Set(!r.ok ? r.problems.map((p) => p.path) : []);
  for (const p of [
    'body/name',
    'body/repo',
    'body/branch',
    'body/app',
    'body/build/dockerfile',
    'body/buildArgs/BAD NAME',
    'body/buildArgs/OK',
    'body/buildArgs/-x',
    'body/testCommand',
    'body/pollSeconds',
  ])
    assert.ok(paths.has(p), `${p} in ${[...paths].join(', ')}`);
});

test('webhooks: GitHub and Gitea HMAC-SHA256, GitLab token; any change to the body breaks the signature', () => {
  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) }));
  const cases = [
    ['github', { 'x-github-event': 'push', 'x-github-delivery': 'd1' }],
    ['gitea', { 'x-gitea-event': 'push', 'x-gitea-delivery': 'd1' }],
    ['gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'd1' }],
  ] as const;
  for (const [provider, h] of cases) {
    const ok = verifyWebhook(provider, 's3cret', { ...h, ...signWebhook(provider, 's3cret', body) }, body);
    assert.deepEqual(ok, {
      ok: true,
      delivery: 'd1',
      event: h[Object.keys(h)[0] as keyof typeof h],
      branch: 'main',
      commit: 'a'.repeat(40),
    });
    const wrong = verifyWebhook(provider, 's3cret', { ...h, ...signWebhook(provider, 'other', body) }, body);
    assert.equal(wrong.ok, false, provider);
    const none = verifyWebhook(provider, 's3cret', { ...h }, body);
    assert.equal(none.ok, false, provider);
    if (provider !== 'gitlab') {
      const tampered = Buffer.from(body.toString().replace('main', 'evil'));
      const t = verifyWebhook(
        provider,
        's3cret',
        { ...h, ...signWebhook(provider, 's3cret', body) },
        tampered,
      );
      assert.equal(t.ok, false, `${provider}: tampered body`);
    }
  }
});

test('master.cfg: values stay Python literals, secrets stay out, the file is valid Python', () => {
  const nasty = 'x"; import os; os.system("id") #\\ \' """';
  const cfg = renderMasterCfg(
    {
      title: 't',
      pbPort: 1,
      pbInterface: '127.0.0.1',
      wwwPort: 2,
      workers: [{ name: 'local', scriptsDir: '/s', registryCaDir: '/ca' }],
      imageWorkers: ['local'],
      tarballWorkers: ['local'],
      grimUrl: 'http://127.0.0.1:1',
      grimCaFile: null,
      registry: '127.0.0.1:5000',
      artifactsDir: '/a',
      environmentOf: { web: 'lab' },
    },
    [
      {
        name: 'web',
        repo: 'https://x/y.git',
        branch: 'main',
        app: 'web',
        build: { kind: 'dockerfile', dockerfile: 'Dockerfile' },
        buildArgs: { GREETING: nasty },
        testCommand: nasty,
        pollSeconds: 5,
      },
    ],
  );
  const dir = mkdtempSync(join(tmpdir(), 'grim-cfg-'));
  try {
    writeFileSync(join(dir, 'master.cfg'), cfg);
    // The calls' keyword arguments, evaluated as literals only (ast.literal_eval never runs code).
    const out = execFileSync('/usr/bin/python3', [
      '-c',
      `import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
calls = [n for n in tree.body if isinstance(n, ast.Expr) and getattr(n.value.func, "id", "") == "add_pipeline"]
print(json.dumps([{k.arg: ast.literal_eval(k.value) for k in c.value.keywords} for c in calls]))`,
      join(dir, 'master.cfg'),
    ]).toString();
    const [call] = JSON.parse(out);
    assert.equal(call.test_command, nasty);
    assert.deepEqual(call.build_args, { GREETING: nasty });
    assert.equal(call.environment, 'lab');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.doesNotMatch(cfg, /grim_[A-Za-z0-9]{10}/, 'no token in the file');
});

test('API: a hostile pipeline is refused listing every problem, nothing is stored or generated', async (t) => {
  const a = await startTestApp(t);
  const r = await a.call('POST', '/api/pipelines', {
    token: a.adminToken,
    body: {
      name: 'Bad;Name',
      repo: '--upload-pack=touch /tmp/pwned',
      branch: '-b',
      app: 'nope',
      build: { kind: 'dockerfile', dockerfile: '/etc/passwd' },
      buildArgs: { 'A B': 'x', C: 'y\nz' },
    },
  });
  assert.equal(r.status, 400, JSON.stringify(r.json));
  const paths = r.json.error.details.map((d: { path: string }) => d.path);
  for (const p of [
    'body/name',
    'body/repo',
    'body/branch',
    'body/app',
    'body/build/dockerfile',
    'body/buildArgs/A B',
    'body/buildArgs/C',
  ])
    assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  assert.deepEqual((await a.call('GET', '/api/pipelines', { token: a.adminToken })).json.pipelines, []);
  assert.match(
    (await a.call('GET', '/api/build-config', { token: a.adminToken })).json.generated,
    /# \(none yet\)/,
  );
  const apply = await a.call('POST', '/api/build-config/apply', { token: a.adminToken });
  assert.equal(apply.status, 409, 'nothing to apply: Buildbot and the registry are not started');
  assert.equal(a.services.pipelines.buildbot.master.running(), false);
  assert.equal(
    (await a.call('GET', '/api/tokens', { token: a.adminToken })).json.tokens.length,
    1,
    'no deployer token',
  );
  const operator = await a.tokenFor('operator');
  const r2 = await a.call('POST', '/api/pipelines', {
    token: operator,
    body: { name: 'x', repo: 'https://x/y', app: 'x', build: { kind: 'dockerfile', dockerfile: 'D' } },
  });
  assert.equal(r2.status, 403, 'pipelines are for admins');
});

test('deployer tokens deploy only their apps: other apps, nodes, app specs and settings are 403', async (t) => {
  const a = await startTestApp(t);
  const admin = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  assert.equal((await admin('POST', '/api/environments', { name: 'lab' })).status, 201);
  assert.equal(
    (await admin('POST', '/api/groups', { name: 'g', environment: 'lab', nodes: [] })).status,
    201,
  );
  for (const name of ['mine', 'other'])
    assert.equal(
      (
        await admin('POST', '/api/apps', {
          name,
          environment: 'lab',
          group: 'g',
          size: 's',
          source: { kind: 'script', start: 'sleep 1000' },
          secrets: { KEY: 'v' },
        })
      ).status,
      201,
    );
  assert.equal(
    (await admin('POST', '/api/tokens', { name: 'd', role: 'deployer' })).status,
    400,
    'needs apps',
  );
  assert.equal(
    (await admin('POST', '/api/tokens', { name: 'v', role: 'viewer', apps: ['mine'] })).status,
    400,
  );
  const created = await admin('POST', '/api/tokens', { name: 'd', role: 'deployer', apps: ['mine'] });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.deepEqual(created.json.token.apps, ['mine']);
  const token = created.json.secret as string;
  const as = (m: string, u: string, body?: unknown) => a.call(m, u, { token, body });
  const source = { kind: 'script', start: 'sleep 2000' };
  assert.equal((await as('POST', '/api/apps/other/deploy', { source })).status, 403, 'another app');
  assert.equal(
    (await as('POST', '/api/nodes', { name: 'n9', environment: 'lab', address: '10.0.0.9' })).status,
    403,
  );
  assert.equal((await as('GET', '/api/apps/mine')).status, 403, 'app spec and secret names');
  assert.equal((await as('GET', '/api/apps')).status, 403);
  assert.equal((await as('GET', '/api/pipelines')).status, 403);
  assert.equal(
    (await as('POST', '/api/tokens', { name: 'x', role: 'deployer', apps: ['other'] })).status,
    403,
  );
  assert.equal((await as('POST', '/api/apps/mine/scale', { replicas: 3 })).status, 403);
  assert.equal(
    (await as('POST', '/api/apps/mine/deploy', { source, secrets: { KEY: 'stolen' } })).status,
    403,
    'source only',
  );
  assert.equal(
    (await as('POST', '/api/apps/mine/deploy', { source, env: { A: 'b' } })).status,
    403,
    'source only',
  );
  const own = await as('POST', '/api/apps/mine/deploy', { source });
  assert.notEqual(own.status, 403, JSON.stringify(own.json));
  assert.notEqual(own.status, 401);
  const denied = (await admin('GET', '/api/audit?outcome=denied&limit=50')).json.entries;
  assert.ok(
    denied.some((e: any) => e.action === 'deployApp' && e.target === 'other'),
    'the refusal is audited',
  );
});

test('webhook endpoint: unknown pipeline 404, wrong signature 401, replayed delivery 409, each audited', async (t) => {
  const a = await startTestApp(t);
  const admin = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  await admin('POST', '/api/environments', { name: 'lab' });
  await admin('POST', '/api/groups', { name: 'g', environment: 'lab', nodes: [] });
  await admin('POST', '/api/apps', {
    name: 'web',
    environment: 'lab',
    group: 'g',
    size: 's',
    source: { kind: 'script', start: 'true' },
  });
  const p = await admin('POST', '/api/pipelines', {
    name: 'web',
    repo: 'https://git.example.com/web.git',
    app: 'web',
    build: { kind: 'dockerfile', dockerfile: 'Dockerfile' },
    webhook: 'gitea',
  });
  assert.equal(p.status, 201, JSON.stringify(p.json));
  const secret = p.json.webhookSecret as string;
  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: 'b'.repeat(40) }));
  const post = (url: string, headers: Record<string, string>) =>
    a.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', 'x-gitea-event': 'push', ...headers },
      payload: body,
    });
  assert.equal(
    (await post('/api/pipelines/nope/webhook', signWebhook('gitea', secret, body))).statusCode,
    404,
  );
  const wrong = await post('/api/pipelines/web/webhook', {
    'x-gitea-delivery': randomUUID(),
    ...signWebhook('gitea', 'guess', body),
  });
  assert.equal(wrong.statusCode, 401);
  const id = randomUUID();
  const first = await post('/api/pipelines/web/webhook', {
    'x-gitea-delivery': id,
    ...signWebhook('gitea', secret, body),
  });
  assert.equal(first.statusCode, 503, 'verified, but Buildbot is not running here');
  const replay = await post('/api/pipelines/web/webhook', {
    'x-gitea-delivery': id,
    ...signWebhook('gitea', secret, body),
  });
  assert.equal(replay.statusCode, 409);
  const entries = (await admin('GET', '/api/audit?action=pipeline.webhook&limit=10')).json.entries.reverse();
  assert.deepEqual(
    entries.map((e: any) => [e.outcome, e.details.reason ?? 'forwarded']),
    [
      ['denied', 'no such pipeline webhook'],
      ['denied', 'signature or token does not match'],
      ['failure', 'forwarded'],
      ['denied', 'replayed delivery'],
    ],
  );
});
