// `grim monitoring enable --group G` on a 1-node lab, through the real CLI and a real grim server process: the
// admin records releases (binaries and a tarball, SHA-256 computed by grim), sees the plan (every generated
// config) before anything runs, and enables; grim pushes the artifacts, writes the configs (0600) and runs the
// four components under its node supervisor on fixed ports, then points its own remote write, log shipping
// and trace export at them with the tenant header, also after a restart.
// STAND-INS, plainly: Cortex, Loki, Tempo and Grafana binaries cannot be installed here. The recorded releases
// are test/helpers/monitoring-stand-in.ts, which listens where grim's generated configs say; as Cortex it fronts
// a REAL Prometheus (Debian) that receives grim's remote write, so the samples read back come from a real
// receiver. The generated Cortex config is checked against Cortex's official JSON schema (GRIM_SHARED_DIR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'yaml';
import { cliEnv, grim, REPO, startGrimServer } from '../helpers/grim-process.ts';
import { labMustRun, uniqueLabName } from '../helpers/lab.ts';
import { sharedDir } from '../helpers/openapi-validator.ts';
import { validateStrict } from '../helpers/json-schema-strict.ts';
import { allowHttpErrors, launchBrowser } from '../helpers/browser.ts';
import { ensureWebBuilt } from '../e2e/web-build.ts';
import { login, newPage, openFromNav } from '../e2e/ui-steps.ts';
import { checkLabPrerequisites, labDown, loadState } from '../../src/lab/lab.ts';

const STAND_IN = join(REPO, 'test/helpers/monitoring-stand-in.mjs');
const PASSWORD = 'monitoring-lab-password';

/** The supervised services' logs on the node (for a failure message). */
function serviceLogs(nodeDir: string): string {
  const dir = join(nodeDir, 'services');
  if (!existsSync(dir)) return '(no services directory)';
  return readdirSync(dir)
    .map(
      (id) =>
        `--- ${id}\n${existsSync(join(dir, id, 'log')) ? readFileSync(join(dir, id, 'log'), 'utf8').slice(-1500) : '(no log)'}`,
    )
    .join('\n');
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  ms = 60_000,
  explain = () => '',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${explain()}`);
    await delay(200);
  }
}

/** The stand-in as a release tarball: standin/bin/<component> (a sh wrapper) next to the stand-in itself. */
function standInRelease(dir: string, component: string): string {
  const bin = join(dir, component, 'standin', 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(STAND_IN, join(bin, 'stand-in.mjs'));
  const sh = `#!/bin/sh\nexec /usr/bin/node "$(dirname "$0")/stand-in.mjs" ${component} "$@"\n`;
  writeFileSync(join(bin, component), sh, { mode: 0o755 });
  const tgz = join(dir, `${component}.tar.gz`);
  const r = spawnSync('tar', ['-czf', tgz, '-C', join(dir, component), 'standin']);
  assert.equal(r.status, 0, String(r.stderr));
  return tgz;
}

test(
  'monitoring enable: plan shown first, stack supervised on the group, remote write, logs and traces wired to it',
  { timeout: 240_000 },
  async (t) => {
    const missing = await checkLabPrerequisites();
    if (missing.length) {
      if (labMustRun(process.env)) throw new Error(`lab prerequisites missing in CI: ${missing.join('; ')}`);
      return t.skip(missing.join('; '));
    }
    const schemaPath = join(sharedDir(), 'specs', 'cortex', 'cortex-config-schema.json');
    assert.ok(existsSync(schemaPath), `${schemaPath} missing: set GRIM_SHARED_DIR`);
    const tmp = mkdtempSync(join(tmpdir(), 'grim-mon-'));
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const serverEnv = {
      GRIM_ADMIN_PASSWORD: PASSWORD,
      GRIM_METRICS_INTERVAL: '1',
      GRIM_REMOTE_WRITE_URL: '',
      GRIM_LOKI_URL: '',
      GRIM_OTLP_ENDPOINT: '',
    };
    const dataDir = join(tmp, 'grim');
    let srv = await startGrimServer(serverEnv, { dataDir });
    t.after(() => srv.stop());
    const name = uniqueLabName();
    const env = cliEnv();
    assert.equal(
      (await grim(['login', '--server', srv.url, '--password-stdin'], env, `${PASSWORD}\n`)).code,
      0,
    );
    t.after(async () => {
      await grim(['monitoring', 'disable', '--env', 'lab'], env); // stops the supervised stand-ins
      await labDown(name);
    });
    const up = await grim(['lab', 'up', '--name', name, '--nodes', '1', '--register'], env);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const group = `lab-${name}`;
    // what the node wrote, seen from here: its overlay's upper directory
    const nodeDir = join((await loadState(name)).nodes[0].dir, 'upper/var/lib/grim/monitoring');

    // releases: grim computes the SHA-256; a tarball needs its entry
    for (const c of ['cortex', 'loki', 'tempo', 'grafana']) {
      const file = standInRelease(tmp, c);
      const args = ['monitoring', 'release', 'add', c, 'standin-1', '--path', file, '--json'];
      const r = await grim([...args, '--entry', `standin/bin/${c}`], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).release.kind, 'tarball');
    }
    const bad = await grim(
      ['monitoring', 'plan', '--group', 'nope', '--tenant', 'a b', '--components', 'cortex,mimir'],
      env,
    );
    assert.notEqual(bad.code, 0);
    for (const m of [/no node group "nope"/, /unknown component "mimir"/, /tenant/])
      assert.match(bad.stderr, m, 'every problem listed at once');

    // the plan: every config before anything runs
    const planned = await grim(['monitoring', 'plan', '--group', group, '--json'], env);
    assert.equal(planned.code, 0, planned.stderr);
    const plan = JSON.parse(planned.stdout).plan;
    assert.deepEqual(plan.problems, []);
    const comp = (c: string) => plan.components.find((x: any) => x.component === c);
    const file = (c: string, n: string) => comp(c).files.find((f: any) => f.name === n).content as string;
    const address = plan.address as string;
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
    const cortexYaml = parse(file('cortex', 'cortex.yaml'));
    assert.deepEqual(
      validateStrict(schema, cortexYaml),
      [],
      'the Cortex config validates against the official schema',
    );
    assert.equal(cortexYaml.blocks_storage.backend, 'filesystem', 'no SeaweedFS cluster: a local directory');
    const loki = parse(file('loki', 'loki.yaml'));
    assert.deepEqual(
      [
        loki.schema_config.configs[0].schema,
        loki.schema_config.configs[0].store,
        loki.server.http_listen_address,
      ],
      ['v13', 'tsdb', address],
    );
    const tempo = parse(file('tempo', 'tempo.yaml'));
    assert.equal(tempo.distributor.receivers.otlp.protocols.http.endpoint, `${address}:4318`);
    assert.equal(tempo.distributor.receivers.otlp.protocols.grpc.endpoint, `${address}:4317`);
    const ds = parse(file('grafana', 'provisioning/datasources/grim.yaml'));
    assert.deepEqual(
      ds.datasources.map((d: any) => d.url),
      [`http://${address}:9009/prometheus`, `http://${address}:3100`, `http://${address}:3200`],
    );
    assert.equal(comp('grafana').env.GF_SECURITY_ADMIN_PASSWORD, '<sealed>');
    assert.ok(comp('grafana').files.some((f: any) => f.name === 'dashboards/grim-fleet.json'));

    // enable: deployed, supervised, ready
    const t0 = Date.now();
    const enabled = await grim(['monitoring', 'enable', '--group', group, '--no-wait'], env);
    assert.equal(enabled.code, 0, enabled.stderr + enabled.stdout);
    assert.match(enabled.stdout, /remote write -> http:\/\/.*:9009\/api\/v1\/push/);
    const status = await until(
      'the stack deployed',
      async () => {
        const s = JSON.parse((await grim(['monitoring', 'status', '--json'], env)).stdout).stacks[0];
        return s.state !== 'deploying' && s;
      },
      150_000,
    );
    console.log(`# enable -> ready: ${Date.now() - t0} ms`);
    assert.equal(status.stateReason, '');
    assert.equal(status.state, 'ready');
    assert.equal(status.endpoints.grafanaUrl, `http://${address}:3000`);

    const conf = join(nodeDir, 'cortex', 'config');
    assert.equal(statSync(join(conf, 'cortex.yaml')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(conf, 'cortex.yaml'), 'utf8'), file('cortex', 'cortex.yaml'));
    const started = readFileSync(join(nodeDir, 'grafana', 'data', 'stand-in-requests.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.equal(started[0].adminPasswordInEnv, true, "Grafana's admin password is in its environment");
    assert.equal(started[0].adminPasswordInArgs, false, '...and not on its command line');
    assert.match(started[0].cwd, /releases\/grafana\/standin-1\/standin$/, 'Grafana runs from its home');

    // wiring: grim's remote write now reaches Cortex (here: real Prometheus behind the stand-in) as tenant grim
    const query = async () => {
      const r = await fetch(`http://${address}:9009/prometheus/api/v1/query?query=count(grim_node_load1)`, {
        headers: { 'X-Scope-OrgID': 'grim' },
      }).then(
        (x) => x.json() as Promise<any>,
        () => null,
      );
      return r?.data?.result?.length ? r.data.result : undefined;
    };
    await until('grim samples in the receiver', query, 30_000, () => serviceLogs(nodeDir));
    const pushes = () =>
      readFileSync(join(nodeDir, 'cortex', 'data', 'stand-in-requests.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('/api/v1/push'))
        .map((l) => JSON.parse(l));
    assert.ok(
      pushes().every((p) => p.tenant === 'grim' && p.status === 204),
      JSON.stringify(pushes().slice(0, 3)),
    );
    assert.match(
      srv.output(),
      new RegExp(`shipping logs to Loki at http://${address.replace(/\./g, '\\.')}:3100`),
    );
    const token = JSON.parse(readFileSync(env.GRIM_CLI_CONFIG, 'utf8')).token;
    const metrics = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then(
      (r) => r.text(),
    );
    assert.match(metrics, /grim_trace/, 'trace export is on');

    // the UI: the stack with its Grafana link on the Alerts page; the preview lists every problem, then every file
    const browser = await launchBrowser(t);
    if (browser) {
      ensureWebBuilt();
      const { page, problems } = await newPage(
        browser,
        allowHttpErrors([
          { status: 401, path: '/api/auth/whoami' },
          { status: 400, path: '/api/monitoring/plan' },
        ]),
      );
      await page.goto(srv.url + '/');
      await login(page, 'admin', PASSWORD);
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await openFromNav(page, 'Alerts', 'Alerts');
      const region = page.getByRole('region', { name: 'Monitoring stack' });
      const link = region.getByRole('link', { name: 'Grafana', exact: true });
      assert.equal(await link.getAttribute('href'), `http://${address}:3000`);
      await region.getByLabel('Node group').fill('nope');
      await region.getByRole('button', { name: 'Preview' }).click();
      await region.getByText('no node group "nope"').waitFor();
      await region.getByLabel('Node group').fill(group);
      await region.getByRole('button', { name: 'Preview' }).click();
      await region.getByText('cortex: cortex.yaml').waitFor();
      assert.deepEqual(problems, []);
    }

    // after a restart grim still feeds the stack (read from its database)
    const before = pushes().length;
    await srv.stop();
    srv = await startGrimServer(serverEnv, { dataDir });
    await until('remote write after a restart', async () => pushes().length > before, 30_000);
    assert.match(srv.output(), /shipping logs to Loki at http:\/\//);
  },
);
