// LIVE suite (opt-in): grim's remote write into a REAL Cortex, started with the single-process config grim
// generates (blocks on a local directory): samples pushed with the tenant header come back from Cortex's
// Prometheus API for that tenant only. Runs when GRIM_TEST_CORTEX_BIN names a Cortex binary; building one
// (v1.21.1 through the Go module proxy, `go build -tags netgo,slicelabels ./cmd/cortex`, recipe in README)
// took 406 s on this 2-core machine, too long for CI, where Prometheus's remote-write receiver stands in
// (test/integration/prometheus-remote-write.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort } from '../helpers/grim-process.ts';
import { cortexConfig, cortexDirectories } from '../../src/integrations/stack/cortex-config.ts';
import { pushRemoteWrite, toTimeSeries } from '../../src/integrations/prometheus/remote-write.ts';
import { metricsOptionsFromEnv } from '../../src/services/metrics/collector.ts';

const BIN = process.env.GRIM_TEST_CORTEX_BIN;

test(
  'remote write with the tenant header into a real Cortex, read back per tenant',
  { timeout: 240_000 },
  async (t) => {
    if (!BIN)
      return t.skip('live Cortex suite: set GRIM_TEST_CORTEX_BIN to a Cortex binary (README: monitoring)');
    if (!existsSync(BIN)) return assert.fail(`GRIM_TEST_CORTEX_BIN=${BIN} does not exist`);
    const dir = mkdtempSync(join(tmpdir(), 'grim-cortex-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const [http, grpc] = [await freePort(), await freePort()];
    const config = cortexConfig({
      httpPort: http,
      grpcPort: grpc,
      dataDir: join(dir, 'data'),
      storage: { kind: 'filesystem', dir: join(dir, 'blocks') },
      interfaceNames: ['lo'],
    });
    for (const d of cortexDirectories({ dataDir: join(dir, 'data') })) mkdirSync(d, { recursive: true });
    writeFileSync(join(dir, 'cortex.yml'), stringify(config));
    const log = join(dir, 'cortex.log');
    const out = openSync(log, 'a');
    const proc = spawn(
      BIN,
      [
        `-config.file=${join(dir, 'cortex.yml')}`,
        '-server.http-listen-address=127.0.0.1',
        '-server.grpc-listen-address=127.0.0.1',
      ],
      {
        stdio: ['ignore', out, out],
      },
    );
    closeSync(out);
    t.after(async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      await exited;
    });
    const base = `http://127.0.0.1:${http}`;
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null)
        assert.fail(`cortex exited ${proc.exitCode}: ${readFileSync(log, 'utf8').slice(-3000)}`);
      if (
        await fetch(`${base}/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 600) assert.fail(`cortex not ready: ${readFileSync(log, 'utf8').slice(-3000)}`);
      await delay(100);
    }
    const opts = metricsOptionsFromEnv({
      GRIM_REMOTE_WRITE_URL: `${base}/api/v1/push`,
      GRIM_REMOTE_WRITE_TENANT: 'prod',
    });
    assert.deepEqual(opts.remoteWriteHeaders, { 'X-Scope-OrgID': 'prod' });
    const now = Date.now();
    const series = toTimeSeries(
      [
        {
          kind: 'node',
          labels: { env: 'prod', group: 'web', node: 'n1' },
          points: [{ metric: 'load1', dim: '', value: 0.75 }],
        },
      ],
      now - 1000,
    );
    // Cortex's distributor may answer 5xx until its ring is active: the client retries those.
    const pushed = await pushRemoteWrite(opts.remoteWriteUrl!, series, {
      headers: opts.remoteWriteHeaders,
      attempts: 20,
      maxDelayMs: 1000,
    }).catch((err: Error) => assert.fail(`${err.message}\n${readFileSync(log, 'utf8').slice(-4000)}`));
    assert.ok(pushed.attempts >= 1);
    const query = async (tenant?: string) => {
      const r = await fetch(`${base}/prometheus/api/v1/query?query=grim_node_load1&time=${now / 1000}`, {
        headers: tenant ? { 'X-Scope-OrgID': tenant } : {},
      });
      return { status: r.status, body: r.ok ? ((await r.json()) as any) : await r.text() };
    };
    const prod = await query('prod');
    assert.equal(prod.status, 200);
    assert.deepEqual(
      prod.body.data.result.map((r: any) => [r.metric, r.value[1]]),
      [[{ __name__: 'grim_node_load1', env: 'prod', group: 'web', node: 'n1' }, '0.75']],
    );
    const other = await query('staging');
    assert.deepEqual(other.body.data.result, [], 'another tenant sees nothing');
    assert.equal((await query()).status, 401, 'no tenant header: refused (auth enabled)');
  },
);
