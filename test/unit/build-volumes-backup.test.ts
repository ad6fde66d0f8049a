// The Buildbot master's state volume backed up with real restic (scripts/node/volume-backup.sh run on the
// control node, as app volumes are on theirs) to a path backup target: before the volume exists it is refused;
// afterwards the repository holds a snapshot with the volume's file, readable with the password grim keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp } from '../helpers/app.ts';
import { ControlVolumes, controlVolumeSettings } from '../../src/services/pipelines/control-volumes.ts';

test("backup of the Buildbot master's state volume with restic to a backup target", async (t) => {
  if (!existsSync('/usr/bin/restic')) {
    if (process.env.CI) assert.fail('restic is not installed (scripts/dev/setup.sh --test)');
    return void t.skip('restic is not installed');
  }
  const a = await startTestApp(t);
  const repoRoot = mkdtempSync(join(tmpdir(), 'grim-bb-backup-'));
  t.after(() => rmSync(repoRoot, { recursive: true, force: true }));
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  assert.equal(
    (await call('PUT', '/api/backup-targets/local', { kind: 'path', path: repoRoot })).status,
    200,
  );

  const early = await call('POST', '/api/build-settings/backups', {});
  assert.equal(early.status, 409, JSON.stringify(early.json));
  assert.match(early.json.error.message, /volume buildbot does not exist yet/);

  const volumes = new ControlVolumes(controlVolumeSettings(a.dataDir, {}));
  const v = await volumes.ensure('buildbot', 16 << 20);
  mkdirSync(join(v.path, 'master'));
  writeFileSync(join(v.path, 'master', 'state.sqlite'), 'builds');
  const r = await call('POST', '/api/build-settings/backups', { target: 'local' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.backups.length, 1, 'the registry is not on a volume: only the master state');
  const b = r.json.backups[0];
  assert.deepEqual([b.volume, b.target], ['buildbot', 'local']);
  assert.match(b.snapshotId, /^[0-9a-f]{8,64}$/);
  assert.ok(b.files >= 1);

  const password = (await a.services.apps.backups.resticEnvFor('local', 'control', 'grim-build')).env;
  const listed = execFileSync('restic', ['ls', '--json', 'latest'], {
    env: { ...process.env, ...password, RESTIC_CACHE_DIR: join(repoRoot, 'cache') },
  }).toString();
  assert.match(listed, /master\/state\.sqlite/);
});
