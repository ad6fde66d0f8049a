// The CLI is a thin client: its commands load commander, the typed API client and their own formatting, and
// import the server side (fastify, ssh2, pg, the stores and services) only in the commands that run it
// (`grim server`, backup, restore, master-key, upgrade). Measured: `grim --help` 0.8 -> 0.45 s CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI, REPO } from '../helpers/grim-process.ts';

function loadedBy(args: string[]): string[] {
  const r = spawnSync(
    process.execPath,
    ['--import', join(REPO, 'test/helpers/module-log.ts'), CLI, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, GRIM_SERVER: 'http://127.0.0.1:9', GRIM_CLI_CONFIG: '/nonexistent/cli.json' },
    },
  );
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('loaded '))
    .map((l) => l.slice('loaded '.length));
}

test('grim --help and an API command load no server-side module', () => {
  for (const args of [['--help'], ['node', 'list']]) {
    const loaded = loadedBy(args);
    assert.ok(
      loaded.some((u) => u.endsWith('/src/api/client.ts')),
      `${args.join(' ')}: the module log works`,
    );
    const server = loaded.filter((u) =>
      /\/node_modules\/(fastify|ssh2|pg|@fastify\/[^/]+)\/|\/src\/(server\/start|services\/apps\/|store\/(sqlite|postgres|db)\.ts)/.test(
        u,
      ),
    );
    assert.deepEqual(server, [], `grim ${args.join(' ')} loads the server side`);
  }
});
