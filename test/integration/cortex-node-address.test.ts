// LIVE suite (opt-in, root): a REAL Cortex started the way grim's monitoring plan starts it (its generated
// config, bound to the node's address, plus cortexAddressFlags) becomes ready on a node whose only interface is
// ens18, as on many Debian and Ubuntu servers. Without the flags it stops with "no address found for [eth0 en0]",
// or waits for ever on a frontend at 127.0.0.1. Runs when GRIM_TEST_CORTEX_BIN names a Cortex binary (README:
// monitoring); the namespace and its veth are this test's own and removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import {
  cortexAddressFlags,
  cortexConfig,
  cortexDirectories,
} from '../../src/integrations/stack/cortex-config.ts';

const BIN = process.env.GRIM_TEST_CORTEX_BIN;
const ADDRESS = '10.213.77.2';
const [HTTP, GRPC] = [9009, 9095];

/** Starts Cortex in the namespace; resolves with 'ready' or the last lines of its log. */
async function startCortex(ns: string, dir: string, flags: string[]): Promise<string> {
  const dataDir = join(dir, 'data');
  rmSync(dataDir, { recursive: true, force: true });
  for (const d of [dataDir, ...cortexDirectories({ dataDir }), `${dataDir}/blocks`])
    mkdirSync(d, { recursive: true });
  const cfg = cortexConfig({
    httpPort: HTTP,
    grpcPort: GRPC,
    dataDir,
    storage: { kind: 'filesystem', dir: `${dataDir}/blocks` },
  });
  Object.assign(cfg.server as object, { http_listen_address: ADDRESS, grpc_listen_address: ADDRESS });
  writeFileSync(join(dir, 'cortex.yaml'), stringify(cfg));
  const log = join(dir, 'cortex.log');
  const fd = openSync(log, 'w');
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, BIN!, `-config.file=${join(dir, 'cortex.yaml')}`, ...flags],
    {
      stdio: ['ignore', fd, fd],
      cwd: dir,
    },
  );
  closeSync(fd);
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    for (let i = 0; i < 60 && !exited; i++) {
      let out = '';
      try {
        out = execFileSync(
          'ip',
          ['netns', 'exec', ns, 'curl', '-s', '-m', '1', `http://${ADDRESS}:${HTTP}/ready`],
          {
            encoding: 'utf8',
          },
        ).trim();
      } catch {
        // not listening yet
      }
      if (out === 'ready') return 'ready';
      await delay(500);
    }
    return readFileSync(log, 'utf8').split('\n').slice(-5).join('\n');
  } finally {
    child.kill('SIGKILL');
    if (!exited) await new Promise((r) => child.once('exit', r));
  }
}

test(
  'grim starts a real Cortex that gets ready on a node whose interface is ens18',
  { timeout: 180_000 },
  async (t) => {
    if (!BIN)
      return t.skip('live Cortex suite: set GRIM_TEST_CORTEX_BIN to a Cortex binary (README: monitoring)');
    if (!existsSync(BIN)) return assert.fail(`GRIM_TEST_CORTEX_BIN=${BIN} does not exist`);
    if (process.getuid?.() !== 0) return t.skip('needs root for a network namespace');
    const ns = `grim-cx-${randomBytes(3).toString('hex')}`;
    const peer = `gcx${randomBytes(3).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'grim-cortex-ns-'));
    execFileSync('ip', ['netns', 'add', ns]);
    t.after(() => {
      execFileSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    });
    execFileSync('ip', ['link', 'add', peer, 'type', 'veth', 'peer', 'name', 'ens18', 'netns', ns]);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${ADDRESS}/24`, 'dev', 'ens18']);
    for (const l of ['lo', 'ens18']) execFileSync('ip', ['-n', ns, 'link', 'set', l, 'up']);
    execFileSync('ip', ['link', 'set', peer, 'up']);

    const without = await startCortex(ns, dir, []);
    assert.notEqual(without, 'ready', 'without the flags Cortex does not get ready here');
    console.log(`# without grim's address flags: ${without.replace(/\n/g, '\n#   ').slice(0, 600)}`);
    const t0 = performance.now();
    const withFlags = await startCortex(ns, dir, cortexAddressFlags(ADDRESS, GRPC));
    assert.equal(withFlags, 'ready', withFlags);
    console.log(`# with them: ready after ${Math.round(performance.now() - t0)} ms`);
  },
);
