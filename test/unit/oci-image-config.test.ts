import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractRuntimeConfig, parseExposedPort } from '../../src/oci/image-config.ts';

test('extracts entrypoint, cmd, env, workdir, user, ports, labels', () => {
  const rc = extractRuntimeConfig({
    os: 'linux',
    architecture: 'amd64',
    config: {
      Entrypoint: ['/docker-entrypoint.sh'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      Env: ['PATH=/usr/bin:/bin', 'A=1', 'A=2', 'EQ=x=y'],
      WorkingDir: '/srv',
      User: 'nginx:101',
      ExposedPorts: { '443/tcp': {}, '80/tcp': {}, '53/UDP': {}, '9000': {} },
      Labels: { maintainer: 'x' },
      StopSignal: 'SIGQUIT',
    },
  });
  assert.deepEqual(rc.argv, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  assert.deepEqual(rc.envMap, { PATH: '/usr/bin:/bin', A: '2', EQ: 'x=y' });
  assert.equal(rc.workingDir, '/srv');
  assert.equal(rc.user, 'nginx:101');
  assert.deepEqual(rc.exposedPorts, [
    { port: 53, protocol: 'udp' },
    { port: 80, protocol: 'tcp' },
    { port: 443, protocol: 'tcp' },
    { port: 9000, protocol: 'tcp' },
  ]);
  assert.deepEqual(rc.labels, { maintainer: 'x' });
  assert.equal(rc.stopSignal, 'SIGQUIT');
  assert.equal(rc.architecture, 'amd64');
});

test('defaults for an empty config; null Entrypoint/Cmd', () => {
  const rc = extractRuntimeConfig({ config: { Entrypoint: null, Cmd: null } });
  assert.deepEqual([rc.entrypoint, rc.cmd, rc.argv, rc.env, rc.exposedPorts], [[], [], [], [], []]);
  assert.equal(rc.workingDir, '/');
  assert.equal(rc.user, '');
  assert.deepEqual(extractRuntimeConfig({}).argv, []);
});

test('invalid values are rejected', () => {
  assert.throws(() => extractRuntimeConfig({ config: { Env: ['NOEQUALS'] } }), /not NAME=value/);
  assert.throws(
    () => extractRuntimeConfig({ config: { Cmd: 'sh' as unknown as string[] } }),
    /Cmd must be an array/,
  );
  assert.throws(() => parseExposedPort('70000/tcp'), /invalid exposed port/);
  assert.throws(() => parseExposedPort('80/icmp'), /invalid exposed port/);
});
