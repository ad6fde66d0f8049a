/**
 * A supervised instance starts with only its own environment: app-start.sh runs the supervisor under `env -i`,
 * so nothing of the SSH session that started it (SSH_CLIENT, MAIL, OLDPWD, ...) reaches the app. Runs the real
 * app-start.sh, supervisor.sh and app-stop.sh under dash on a temporary apps directory (no root, no cgroup).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { scriptFor } from '../../src/scripts/loader.ts';
import { envFile } from '../../src/drivers/env-file.ts';

for (const shell of ['dash', 'busybox']) {
  const available = (() => {
    try {
      execFileSync('sh', ['-c', `command -v ${shell}`]);
      return true;
    } catch {
      return false;
    }
  })();
  test(
    `a supervised app sees only its own environment (${shell})`,
    { skip: !available && `${shell} is not installed` },
    async (t) => {
      const root = mkdtempSync(join(tmpdir(), 'grim-env-'));
      const apps = join(root, 'apps');
      const bin = join(root, 'bin');
      const id = `envtest-${process.pid}-${shell}`;
      const dir = join(apps, id);
      mkdirSync(dir, { recursive: true });
      mkdirSync(bin);
      writeFileSync(join(bin, 'supervisor.sh'), scriptFor('supervisor').body);
      writeFileSync(join(dir, 'run'), 'env >seen-env.tmp && mv seen-env.tmp seen-env\nexec sleep 60\n');
      writeFileSync(join(dir, 'environment'), envFile({ GREETING: 'hello' }), { mode: 0o600 });
      writeFileSync(join(dir, 'mode'), 'sh\n');
      const sh = shell === 'busybox' ? ['busybox', 'sh'] : ['dash'];
      const run = (script: string) =>
        execFileSync(sh[0], [...sh.slice(1), '-c', scriptFor(script).body, script], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            INSTANCE_ID: id,
            GRIM_APPS_DIR: apps,
            // What an SSH login session carries, and must not hand on to the app.
            SSH_CLIENT: '192.0.2.1 40000 22',
            SSH_CONNECTION: '192.0.2.1 40000 192.0.2.2 22',
            MAIL: '/var/mail/root',
            OLDPWD: '/root',
            HOME: '/root',
            LOGNAME: 'root',
          },
          encoding: 'utf8',
          timeout: 30_000,
        });
      t.after(() => {
        try {
          run('app-stop');
        } catch {
          // already stopped
        }
        for (const f of ['supervisor.pid', 'app.pid'])
          try {
            process.kill(Number(readFileSync(join(dir, f), 'utf8')), 'SIGKILL');
          } catch {
            // gone
          }
        rmSync(root, { recursive: true, force: true });
      });
      assert.match(run('app-start'), /"started":true/);
      for (let i = 0; i < 100 && !existsSync(join(dir, 'seen-env')); i++) await delay(50);
      const seen = Object.fromEntries(
        readFileSync(join(dir, 'seen-env'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      assert.equal(seen.GREETING, 'hello', 'its own env file is there');
      for (const leaked of [
        'SSH_CLIENT',
        'SSH_CONNECTION',
        'MAIL',
        'OLDPWD',
        'HOME',
        'LOGNAME',
        'INSTANCE_ID',
        'GRIM_APPS_DIR',
      ])
        assert.equal(seen[leaked], undefined, `${leaked} leaked into the app`);
      assert.equal(seen.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      assert.deepEqual(
        Object.keys(seen)
          .filter(
            (k) =>
              !['GREETING', 'PATH', 'PWD', 'SHLVL', '_', 'GRIM_INSTANCE', 'GRIM_INSTANCE_DIR'].includes(k),
          )
          .sort(),
        [],
        'nothing else reaches the app',
      );
    },
  );
}
