// recover() of supervised runtimes: the real app-recover.sh (under dash and busybox sh) reads what a node keeps
// of an instance (its service directory and the handle.json app-install.sh wrote), and supervised() turns it
// into the instance's handle, a rebuilt one for instances an older grim installed, or nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpCtx } from '../../src/drivers/driver.ts';
import { scriptCommand } from '../../src/scripts/loader.ts';
import { createSupervisedContainerDriver } from '../../src/drivers/container/supervised.ts';
import { createScriptDriver } from '../../src/drivers/script/script-driver.ts';

/** An OpCtx whose scripts run here, under `shell`, on an apps directory of the test's own. */
function localCtx(shell: string[], apps: string): OpCtx {
  return {
    node: 'n1',
    log: () => undefined,
    async runScript(name, env) {
      const cmd = scriptCommand(name, env);
      const r = spawnSync(shell[0], [...shell.slice(1), '-c', cmd.script, name], {
        env: { PATH: process.env.PATH, ...cmd.env, GRIM_APPS_DIR: apps },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      const result = { stdout: r.stdout, stderr: r.stderr, exitCode: r.status, timedOut: false } as never;
      return { json: JSON.parse(r.stdout.trim().split('\n').pop() as string), result };
    },
    upload: () => Promise.reject(new Error('no uploads here')),
  };
}

for (const shell of [['dash'], ['busybox', 'sh']]) {
  test(`recover() from what the node keeps (${shell.join(' ')})`, async (t) => {
    const apps = mkdtempSync(join(tmpdir(), 'grim-recover-'));
    t.after(() => rmSync(apps, { recursive: true, force: true }));
    const ctx = localCtx(shell, apps);
    const install = (id: string, handle?: string) => {
      mkdirSync(join(apps, id));
      writeFileSync(join(apps, id, 'run'), 'exec sleep 1\n');
      if (handle !== undefined) writeFileSync(join(apps, id, 'handle.json'), handle);
    };
    const kept = {
      driver: 'container',
      instanceId: 'web-1-abcde',
      node: 'old-name',
      data: {
        stateDir: '/var/lib/grim',
        instanceDir: '/var/lib/grim/containers/web-1-abcde',
        ip: '10.253.0.2',
      },
    };
    install('web-1-abcde', JSON.stringify(kept));
    install('web-2-abcde'); // installed by a grim that kept no handle
    install('web-3-abcde', 'not a handle\n');
    const container = createSupervisedContainerDriver();

    assert.deepEqual(await container.recover('web-1-abcde', ctx), { ...kept, node: 'n1' });
    const legacy = { stateDir: '/var/lib/grim', instanceDir: '/var/lib/grim/containers/web-2-abcde' };
    assert.deepEqual((await container.recover('web-2-abcde', ctx))?.data, legacy);
    assert.equal(
      (await container.recover('web-3-abcde', ctx))?.data.instanceDir,
      '/var/lib/grim/containers/web-3-abcde',
    );
    assert.equal(
      await container.recover('web-4-abcde', ctx),
      undefined,
      'nothing on the node: nothing to recover',
    );
    // a handle kept for another instance is not taken for this one
    install('web-5-abcde', JSON.stringify(kept));
    assert.equal((await container.recover('web-5-abcde', ctx))?.instanceId, 'web-5-abcde');
    assert.equal((await createScriptDriver().recover('web-2-abcde', ctx))?.driver, 'script');
  });
}
