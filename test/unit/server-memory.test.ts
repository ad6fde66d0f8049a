// `grim server` keeps V8's young generation small (src/cli/server-memory.ts): after a burst of short-lived
// garbage, the new space of a process started as `... server` stays at a few MiB, while any other command keeps
// V8's default (which grows to tens of MiB and stays resident: most of the server's footprint before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MODULE = resolve(import.meta.dirname, '../../src/cli/server-memory.ts');

function newSpaceMiB(command: string, env: Record<string, string> = {}): number {
  const dir = mkdtempSync(join(tmpdir(), 'grim-v8-'));
  try {
    const script = join(dir, 'burst.ts');
    writeFileSync(
      script,
      `import ${JSON.stringify(MODULE)};\n` +
        `import { getHeapSpaceStatistics } from 'node:v8';\n` +
        `let keep = [];\n` +
        `for (let i = 0; i < 3_000_000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20_000) keep = []; }\n` +
        `const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');\n` +
        `console.log(s.physical_space_size);\n`,
    );
    const r = spawnSync(process.execPath, [script, command], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout.trim()) / 2 ** 20;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('grim server runs with a small young generation; other commands and the opt-out keep V8 defaults', () => {
  const server = newSpaceMiB('server');
  const other = newSpaceMiB('status');
  const optOut = newSpaceMiB('server', { GRIM_SERVER_V8_DEFAULTS: '1' });
  assert.ok(server <= 16, `server new space ${server} MiB`);
  assert.ok(other >= 32, `other commands keep V8's default young generation (${other} MiB)`);
  assert.ok(optOut >= 32, `GRIM_SERVER_V8_DEFAULTS=1 keeps it too (${optOut} MiB)`);
});
