// Pipelines end to end, all real: a git repository on a lab node (served by git daemon), grim's Buildbot 4
// master and local worker (supervised on the control node), a worker grim installs on lab node 2 (where
// buildah builds the repository's Dockerfile), grim's docker-registry over TLS from grim's CA with token auth
// against grim, and a container app on a 2-node lab group.
// One Buildbot master serves the whole file:
//   - a commit pushed to main is polled, built, pushed and deployed with no further action (push → serving time);
//   - applying a new configuration while that build runs reloads Buildbot without losing the build;
//   - a commit that breaks the build and one failing the test command deploy nothing: the release stays;
//   - the Pipelines page in Chromium: list, master.cfg before apply (applied from the page), builds and logs;
//   - the master restarts and keeps its build history;
//   - signed GitHub and Gitea webhooks and a GitLab token webhook, over grim's HTTP server, each build and deploy
//     a commit on their pipeline's branch; a wrong signature and a replayed delivery are refused and audited;
//   - the release records pipeline, build number, commit and digest; `grim pipeline builds` lists them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALPINE,
  COMMIT,
  deliverWebhook,
  eventually,
  SETUP_REPO,
  VENV,
  vmMissing,
} from './pipelines-support.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { execInNode } from '../../src/lab/node-control.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, fetchText } from '../helpers/apps-lab.ts';
import { grim, cliEnv } from '../helpers/grim-process.ts';
import { withLab } from '../helpers/lab.ts';
import { freePort, registryBinaryAvailable } from '../helpers/registry.ts';
import { labOpCtx } from './vm-support.ts';
import { ensureWebBuilt } from '../e2e/web-build.ts';
import { checkPipelinesPage } from './pipelines-ui.ts';
import { chooseBuildSettings, dropWorkerNode } from './pipelines-settings.ts';

const APP = `pw${randomBytes(3).toString('hex')}`;
const VM_APP = `${APP}v`;

test(
  'pipelines: push → Buildbot → buildah → registry → release on 2 nodes; failures never deploy; webhooks',
  {
    timeout: 900_000,
  },
  async (t) => {
    if (process.getuid?.() !== 0) return void t.skip('needs root (lab nodes)');
    for (const [ok, what] of [
      [
        existsSync(`${VENV}/bin/buildbot`),
        `Buildbot is not installed in ${VENV} (scripts/dev/setup.sh --test)`,
      ],
      [existsSync('/usr/bin/buildah'), 'buildah is not installed (apt-get install buildah)'],
      [registryBinaryAvailable(), 'docker-registry is not installed'],
    ] as const)
      if (!ok) {
        if (process.env.CI) assert.fail(what);
        return void t.skip(what);
      }
    const lab = await withLab(t, { nodes: 2, os: 'debian' });
    if (!lab) return;
    const n1 = lab.nodes[0];
    await execInNode(lab, 1, SETUP_REPO(n1.address));
    const repo = `git://${n1.address}/web.git`;

    // The tarball app runs as a qemu-microvm: the guest kernel goes to both nodes, the Alpine runtime is named.
    const noVm = vmMissing();
    if (noVm && process.env.CI) assert.fail(noVm);
    if (noVm) console.log(`# skip the tarball part: ${noVm}`);
    else {
      const k = readdirSync('/boot')
        .find((f) => f.startsWith('vmlinuz-'))!
        .slice('vmlinuz-'.length);
      for (const node of lab.nodes) {
        execFileSync('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
        await labOpCtx(lab, node).upload(
          `/var/lib/grim/vm/boot/vmlinuz-${k}`,
          createReadStream(`/boot/vmlinuz-${k}`),
          0o644,
        );
      }
      Object.assign(process.env, {
        GRIM_VM_KERNEL: `/var/lib/grim/vm/boot/vmlinuz-${k}`,
        GRIM_VM_KERNEL_MODULES: `/lib/modules/${k}`,
        GRIM_VM_ACCEL: 'tcg',
        GRIM_VM_RUNTIMES: `alpine=3.20:${ALPINE}`,
      });
    }
    // Image builds run on a Buildbot worker grim installs on node 2; it reaches the master, the registry (TLS
    // from grim's CA) and grim's API on the host's lab bridge address.
    const grimPort = await freePort();
    const grimUrl = `http://${lab.gateway}:${grimPort}`;
    const workerNode = lab.nodes[1].name;
    Object.assign(process.env, {
      GRIM_BUILDBOT_VENV: VENV,
      GRIM_BUILDBOT_PB_PORT: String(await freePort()),
      GRIM_BUILDBOT_WWW_PORT: String(await freePort()),
      GRIM_BUILDBOT_PB_LISTEN: lab.gateway,
      GRIM_REGISTRY_ADDR: `${lab.gateway}:${await freePort()}`,
      GRIM_PUBLIC_URL: grimUrl,
    });
    // Registered before startTestApp's cleanup (after hooks run in order): Buildbot stops before its data goes.
    let stopPipelines = async () => {};
    t.after(() => stopPipelines());
    ensureWebBuilt();
    const a = await startTestApp(t);
    stopPipelines = async () => {
      await a.services.pipelines.stop();
      // Nothing of this run may outlive it: no process still uses its data directory.
      const left = execFileSync('ps', ['-eo', 'pid=,args='])
        .toString()
        .split('\n')
        .filter((l) => l.includes(a.dataDir));
      for (const l of left) process.kill(Number(l.trim().split(' ')[0]), 'SIGKILL');
      assert.deepEqual(left, [], 'processes left behind');
    };
    await a.app.listen({ host: lab.gateway, port: grimPort });
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    await addLab(a, lab, 'pair');
    const registry = a.services.pipelines.registry.host;
    // Build settings through the CLI: the worker node (an unknown one is refused), the registry on a volume.
    await chooseBuildSettings(grimUrl, a.adminToken, workerNode);

    const created = await call('POST', '/api/apps', {
      name: APP,
      environment: 'lab',
      group: 'pair',
      replicas: 2,
      cpu: '100m',
      memory: '64Mi',
      disk: '128Mi',
      runtime: 'container',
      source: { kind: 'image', image: `${registry}/lab/${APP}:none` },
      ports: [{ name: 'http', port: 8080 }],
      health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 30 },
      maxParallel: 2,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const p = await call('POST', '/api/pipelines', {
      name: 'web',
      repo,
      branch: 'main',
      app: APP,
      build: { kind: 'dockerfile', dockerfile: 'Dockerfile' },
      buildArgs: { GREETING: 'it\'s "quoted" $(not run)' },
      testCommand: 'sh test.sh',
      pollSeconds: 2,
    });
    assert.equal(p.status, 201, JSON.stringify(p.json));

    // The generated master.cfg is shown before it is applied, then checked and applied.
    const cfg = (await call('GET', '/api/build-config')).json;
    assert.equal(cfg.pending, true);
    assert.equal(cfg.applied, null);
    assert.match(cfg.generated, /add_pipeline\(\n {4}name="web",\n {4}repo="git:\/\/[0-9.]+\/web\.git"/);
    assert.doesNotMatch(cfg.generated, /grim_[A-Za-z0-9]{20,}/, 'no token in master.cfg');
    const applied = await call('POST', '/api/build-config/apply');
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.equal(applied.json.started, true);
    assert.equal((await call('GET', '/api/build-config')).json.pending, false);
    const volumes = join(a.dataDir, 'control-volumes');
    assert.ok(
      existsSync(join(volumes, 'grim-build/buildbot/master/state.sqlite')),
      "the master's state on its volume",
    );
    assert.deepEqual(
      await a.services.pipelines.watchOnce(),
      [],
      'the build watcher starts with nothing to report',
    );

    const serving = async (text: string) => {
      const app = (await call('GET', `/api/apps/${APP}`)).json.app;
      const running = app.instances.filter((i: any) => i.state === 'running');
      if (running.length !== 2 || new Set(running.map((i: any) => i.node)).size !== 2) return false;
      for (const i of running)
        if ((await fetchText(`http://${i.address}:${i.ports.http}/`)) !== text) return false;
      return app;
    };
    /** The app once its rollout has finished (currentRelease moves at the end). */
    const settled = async () => {
      const app = (await call('GET', `/api/apps/${APP}`)).json.app;
      return app.rollout?.status === 'running' ? false : app;
    };
    const buildsOf = async (pipeline: string) =>
      (await call('GET', `/api/pipelines/${pipeline}/builds`)).json.builds;
    /** Rethrows `err` with the pipeline's builds and their step logs (what a failing run needs to show). */
    const withBuildLogs = (pipeline: string) => async (err: Error) => {
      const builds = await buildsOf(pipeline);
      const logs = [];
      for (const b of builds)
        logs.push((await call('GET', `/api/pipelines/${pipeline}/builds/${b.number}`)).json);
      const app = (await call('GET', `/api/apps/${pipeline === 'vm' ? VM_APP : APP}`)).json.app;
      const state = JSON.stringify({ rollout: app.rollout, instances: app.instances }).slice(0, 3000);
      throw new Error(
        `${err.message}: ${JSON.stringify(builds)} ${JSON.stringify(logs).slice(-2000)} ${state}`,
      );
    };
    const buildOf = (pipeline: string, commit: string) =>
      eventually(`a finished build of ${commit.slice(0, 8)}`, async () => {
        const b = (await buildsOf(pipeline)).find((x: any) => x.commit === commit && x.state !== 'running');
        return b ?? false;
      });

    // 1. A pushed commit becomes a release on both nodes with no further action.
    await delay(3000); // the poller's first poll records the branch head
    const pushedAt = Date.now();
    const v2 = (await execInNode(lab, 1, COMMIT('main', "echo 'hello v2' > index.html", 'v2'))).stdout.trim();
    // While that build runs, a new configuration (a webhook pipeline) is applied: Buildbot reloads, the build goes on.
    await eventually('the build of v2 to start', async () =>
      (await buildsOf('web')).some((b: any) => b.state === 'running'),
    );
    const hook = await call('POST', '/api/pipelines', {
      name: 'web-hook',
      repo,
      branch: 'release',
      app: APP,
      build: { kind: 'dockerfile', dockerfile: 'Dockerfile' },
      pollSeconds: 0,
      webhook: 'github',
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.json));
    const secret = hook.json.webhookSecret as string;
    const reapplied = await call('POST', '/api/build-config/apply');
    assert.equal(reapplied.status, 200, JSON.stringify(reapplied.json));
    assert.equal(reapplied.json.reloaded, true);
    const app2 = await eventually('v2 serving on both nodes', () => serving('hello v2\n'), 240_000).catch(
      withBuildLogs('web'),
    );
    const pushToServing = (Date.now() - pushedAt) / 1000;
    console.log(`# push → serving on 2 nodes (polling every 2 s): ${pushToServing.toFixed(1)} s`);
    const b2 = await buildOf('web', v2);
    Object.assign(app2, await eventually('the v2 rollout to finish', settled));
    assert.equal(b2.state, 'succeeded', JSON.stringify(b2));
    assert.equal(b2.worker, `node-${workerNode}`, 'built on the worker node');
    assert.match(b2.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(b2.release, app2.currentRelease);
    const recorded = (await call('GET', `/api/apps/${APP}/release-builds`)).json.builds;
    assert.deepEqual(
      recorded.map((r: any) => [r.release, r.pipeline, r.number, r.commit, r.digest]),
      [[app2.currentRelease, 'web', b2.number, v2, b2.digest]],
    );
    const release2 = app2.currentRelease;
    // The image went to the registry's volume; the master's volume was snapshotted before the second apply.
    assert.ok(existsSync(join(volumes, `grim-build/registry/docker/registry/v2/repositories/lab/${APP}`)));
    const snapshots = readdirSync(join(volumes, '.snapshots/grim-build/buildbot'));
    assert.equal(snapshots.filter((n) => n.startsWith('pre-apply-')).length, 1, snapshots.join(' '));

    // The image in grim's registry is tagged with the commit and has the recorded digest.
    const tagList = await fetch(`https://${registry}/v2/lab/${APP}/tags/list`); // grim's CA is trusted
    assert.equal(tagList.status, 401, 'the registry needs a token');

    // 2. A commit that breaks the build, and one that fails the test command: no deploy, v2 keeps serving.
    const broken = (
      await execInNode(
        lab,
        1,
        COMMIT(
          'main',
          "echo 'COPY missing-file /x' >> Dockerfile; echo 'hello v3' > index.html",
          'broken build',
        ),
      )
    ).stdout.trim();
    const bBroken = await buildOf('web', broken);
    assert.equal(bBroken.state, 'failed');
    const steps = (await call('GET', `/api/pipelines/web/builds/${bBroken.number}`)).json.steps;
    assert.ok(
      steps.some(
        (s: any) => s.name === 'build and push image' && s.state === 'failed' && /missing-file/.test(s.log),
      ),
      JSON.stringify(steps.map((s: any) => [s.name, s.state, s.log.slice(-300)])),
    );
    assert.ok(!steps.some((s: any) => s.name === 'deploy'), 'no deploy step ran');
    const failingTest = (
      await execInNode(
        lab,
        1,
        COMMIT(
          'main',
          "git checkout -q HEAD~1 -- Dockerfile; echo 'goodbye v4' > index.html",
          'fails its test',
        ),
      )
    ).stdout.trim();
    const bTest = await buildOf('web', failingTest);
    assert.equal(bTest.state, 'failed');
    const testSteps = (await call('GET', `/api/pipelines/web/builds/${bTest.number}`)).json.steps;
    assert.deepEqual(
      testSteps.map((s: any) => [s.name, s.state]).slice(-1),
      [['test', 'failed']],
      'the build stopped at the test step',
    );
    // The build watcher reports each failure once: audit entries, and /metrics for alert rules.
    assert.deepEqual(
      (await a.services.pipelines.watchOnce()).map((f) => f.number).sort(),
      [bBroken.number, bTest.number].sort(),
    );
    assert.deepEqual(await a.services.pipelines.watchOnce(), [], 'reported once');
    const failures = (await call('GET', '/api/audit?action=pipeline.build-failed&limit=10')).json.entries;
    assert.equal(failures.length, 2);
    const metrics = await (
      await fetch(`${grimUrl}/metrics`, {
        headers: { authorization: `Bearer ${a.adminToken}` },
      })
    ).text();
    assert.match(metrics, /^grim_pipeline_last_build_failed\{pipeline="web"\} 1$/m);
    const still = await serving('hello v2\n');
    assert.ok(still, 'v2 still serves');
    assert.equal(still.currentRelease, release2, 'no new release');

    // 3. The Pipelines page in Chromium: the list, master.cfg of two new webhook pipelines shown before it is
    // applied (from the page), builds with states and the failed build's log.
    const secrets: Record<string, string> = { 'web-hook': secret };
    for (const [name, provider, branch] of [
      ['web-gitlab', 'gitlab', 'gitlab'],
      ['web-gitea', 'gitea', 'gitea'],
    ] as const) {
      const r = await call('POST', '/api/pipelines', {
        name, repo, branch, app: APP, build: { kind: 'dockerfile', dockerfile: 'Dockerfile' },
        pollSeconds: 0, webhook: provider,
      }); // prettier-ignore
      assert.equal(r.status, 201, JSON.stringify(r.json));
      secrets[name] = r.json.webhookSecret;
    }
    await checkPipelinesPage(t, grimUrl, {
      pipelines: ['web', 'web-gitea', 'web-gitlab', 'web-hook'],
      pendingPipeline: 'web-gitea',
      okBuild: b2.number,
      failedBuild: bBroken.number,
      failedLog: /missing-file/,
      worker: `node-${workerNode}`,
      workerNode,
    });
    assert.equal((await call('GET', '/api/build-config')).json.pending, false, 'applied from the page');

    // 4. The master restarts: its state (build history) is kept in its state directory.
    const history = (await buildsOf('web')).map((b: any) => [b.number, b.commit, b.state]);
    await a.services.pipelines.buildbot.master.stop();
    assert.equal(a.services.pipelines.buildbot.master.running(), false);
    a.services.pipelines.buildbot.master.start();
    await eventually('Buildbot back with its worker', () => a.services.pipelines.buildbot.ready(), 120_000);
    assert.deepEqual(
      (await buildsOf('web')).map((b: any) => [b.number, b.commit, b.state]),
      history,
    );

    // 5. Webhooks through grim's HTTP server: a GitHub, a GitLab and a Gitea push each build and deploy a commit
    // of their pipeline's branch; a wrong signature (token) and a replayed delivery are refused and audited.
    for (const [pipeline, provider, branch] of [
      ['web-hook', 'github', 'release'],
      ['web-gitlab', 'gitlab', 'gitlab'],
      ['web-gitea', 'gitea', 'gitea'],
    ] as const) {
      const text = `hello ${provider}`;
      const change = `echo '${text}' > index.html; printf 'exit 0\\n' > test.sh`;
      const commit: string = (await execInNode(lab, 1, COMMIT(branch, change, provider))).stdout.trim();
      const payload = Buffer.from(
        JSON.stringify({ ref: `refs/heads/${branch}`, after: commit, checkout_sha: commit, repository: { clone_url: repo } }),
      ); // prettier-ignore
      const hookUrl = `${grimUrl}/api/pipelines/${pipeline}/webhook`;
      const delivery = randomUUID();
      assert.equal(await deliverWebhook(hookUrl, provider, 'not-the-secret', payload, randomUUID()), 401);
      const hookAt = Date.now();
      assert.equal(await deliverWebhook(hookUrl, provider, secrets[pipeline], payload, delivery), 202);
      assert.equal(await deliverWebhook(hookUrl, provider, secrets[pipeline], payload, delivery), 409);
      const served = await eventually(
        `${text} serving on both nodes`,
        () => serving(`${text}\n`),
        240_000,
      ).catch(withBuildLogs(pipeline));
      console.log(
        `# signed ${provider} webhook → serving on 2 nodes: ${((Date.now() - hookAt) / 1000).toFixed(1)} s`,
      );
      const b5 = await buildOf(pipeline, commit);
      Object.assign(served, await eventually('the rollout to finish', settled));
      assert.equal(b5.release, served.currentRelease);
      const audit = (await call('GET', `/api/audit?action=pipeline.webhook&target=${pipeline}&limit=20`)).json
        .entries as any[];
      assert.deepEqual(
        audit.map((e) => [e.outcome, e.details.reason ?? e.details.commit ?? '', e.ip]).reverse(),
        [
          ['denied', 'signature or token does not match', lab.gateway],
          ['success', commit, lab.gateway],
          ['denied', 'replayed delivery', lab.gateway],
        ],
        JSON.stringify(audit),
      );
    }

    // 6. `grim pipeline builds` lists the builds with their commits, states and releases.
    const cli = await grim(['pipeline', 'builds', 'web', '--json'], {
      ...cliEnv(),
      GRIM_SERVER: grimUrl,
      GRIM_TOKEN: a.adminToken,
    });
    assert.equal(cli.code, 0, cli.stderr);
    const listed = JSON.parse(cli.stdout).builds.map((b: any) => [b.commit, b.state, b.release]);
    for (const want of [
      [v2, 'succeeded', release2],
      [broken, 'failed', null],
      [failingTest, 'failed', null],
    ])
      assert.ok(
        listed.some((x: any) => JSON.stringify(x) === JSON.stringify(want)),
        JSON.stringify(listed),
      );

    // The worker node is dropped from the build settings: applied at once, its worker removed from the node.
    await dropWorkerNode(a, lab, workerNode);

    // 7. A tarball pipeline: `git archive` of the commit → a tarball + Alpine runtime app (qemu-microvm) → serving.
    if (noVm) return;
    const vmCreated = await call('POST', '/api/apps', {
      name: VM_APP,
      environment: 'lab',
      group: 'pair',
      replicas: 1,
      cpu: '500m',
      memory: '128Mi',
      disk: '256Mi',
      runtime: 'qemu-microvm',
      network: 'nat',
      source: {
        kind: 'tarball',
        tarball: '/nonexistent.tar.gz',
        runtime: 'alpine',
        command: ['/bin/sh', '/app/serve.sh'],
      },
      ports: [{ name: 'http', port: 80 }],
      health: { type: 'http', path: '/', intervalSec: 2, timeoutSec: 2, retries: 90 },
    });
    assert.equal(vmCreated.status, 201, JSON.stringify(vmCreated.json));
    // The branch exists before the pipeline (a poller's first look records the head; later pushes build).
    await execInNode(lab, 1, 'cd /srv/work && git push -q origin HEAD:refs/heads/vm');
    const tarPipeline = await call('POST', '/api/pipelines', {
      name: 'vm',
      repo,
      branch: 'vm',
      app: VM_APP,
      build: { kind: 'tarball', runtime: 'alpine', command: ['/bin/sh', '/app/serve.sh'] },
      testCommand: 'test -x bin/busybox',
      pollSeconds: 2,
    });
    assert.equal(tarPipeline.status, 201, JSON.stringify(tarPipeline.json));
    const vmApplied = await call('POST', '/api/build-config/apply');
    assert.equal(vmApplied.json.reloaded, true, JSON.stringify(vmApplied.json));
    await delay(3000); // the new poller's first poll records the branch head
    const vmPushedAt = Date.now();
    const tarCommit = (
      await execInNode(
        lab,
        1,
        COMMIT(
          'vm',
          "mkdir -p bin && cp rootfs/bin/busybox bin/ && echo 'tarball v1' > index.html && printf '#!/bin/sh\\nmkdir -p /srv/www && cp /app/index.html /srv/www/ && exec /app/bin/busybox httpd -f -p 80 -h /srv/www\\n' > serve.sh",
          'tarball app',
        ),
      )
    ).stdout.trim();
    const vmServing = await eventually(
      'the tarball app serving',
      async () => {
        const app = (await call('GET', `/api/apps/${VM_APP}`)).json.app;
        const i = app.instances.find((x: any) => x.state === 'running');
        return i && (await fetchText(`http://${i.address}:${i.ports.http}/`)) === 'tarball v1\n'
          ? app
          : false;
      },
      300_000,
    ).catch(withBuildLogs('vm'));
    console.log(`# push → tarball microVM app serving: ${((Date.now() - vmPushedAt) / 1000).toFixed(1)} s`);
    const bTar = await buildOf('vm', tarCommit);
    assert.equal(bTar.state, 'succeeded');
    const source = vmServing.source as { kind: string; tarball: string };
    assert.equal(source.kind, 'tarball');
    assert.equal(source.tarball.split('/').pop(), `${bTar.digest.slice('sha256:'.length)}.tar.gz`);
    const vmBuilds = (await call('GET', `/api/apps/${VM_APP}/release-builds`)).json.builds;
    assert.deepEqual(
      vmBuilds.map((r: any) => [r.pipeline, r.commit, r.digest]),
      [['vm', tarCommit, bTar.digest]],
    );
  },
);
