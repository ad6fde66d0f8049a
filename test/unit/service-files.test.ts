import test from 'node:test';
import assert from 'node:assert/strict';
import {
  serviceSpecProblems,
  settingsFile,
  systemdUnit,
  type ServiceSpec,
} from '../../src/domain/service-files.ts';

const ok: ServiceSpec = {
  kind: 'systemd',
  grimBin: '/usr/local/lib/node_modules/grim/bin/grim',
  user: 'grim',
  env: { GRIM_DATA_DIR: '/var/lib/grim', GRIM_LISTEN: '0.0.0.0:8443' },
};

test('a good spec has no problems; a bad one lists every problem', () => {
  assert.deepEqual(serviceSpecProblems(ok), []);
  const problems = serviceSpecProblems({
    kind: 'upstart' as never,
    grimBin: 'grim $(reboot)',
    user: 'Bad User',
    env: { GRIM_DATA_DIR: 'relative dir', GRIM_LISTEN: "a'b", PATH: '/bin' },
  });
  assert.equal(problems.length, 7, problems.join('\n'));
  for (const want of [
    /kind/,
    /absolute path: grim/,
    /must not contain spaces/,
    /user name/,
    /GRIM_LISTEN/,
    /PATH/,
    /GRIM_DATA_DIR/,
  ])
    assert.ok(
      problems.some((p) => want.test(p)),
      `${want} in ${problems.join('; ')}`,
    );
});

test('settings are single-quoted KEY=value lines; OpenRC also gets the binary and the user', () => {
  assert.equal(
    settingsFile(ok).split('\n').slice(1).join('\n'),
    "GRIM_DATA_DIR='/var/lib/grim'\nGRIM_LISTEN='0.0.0.0:8443'\n",
  );
  const rc = settingsFile({ ...ok, kind: 'openrc' });
  assert.match(rc, /^GRIM_BIN='\/usr\/local\/lib\/node_modules\/grim\/bin\/grim'$/m);
  assert.match(rc, /^GRIM_USER='grim'$/m);
});

test('the unit runs the launcher as the user, logs to the journal, writes only the data directory', () => {
  const unit = systemdUnit(ok);
  assert.match(unit, /^ExecStart=\/usr\/local\/lib\/node_modules\/grim\/bin\/grim server$/m);
  assert.match(unit, /^User=grim$/m);
  assert.match(unit, /^StandardOutput=journal$/m);
  assert.match(unit, /^ReadWritePaths=\/var\/lib\/grim$/m);
  assert.match(unit, /^EnvironmentFile=\/etc\/default\/grim$/m);
});
