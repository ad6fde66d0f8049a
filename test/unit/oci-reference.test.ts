import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatImageReference,
  ImageReferenceError,
  isLoopbackRegistry,
  manifestReference,
  parseImageReference,
  registryApiHost,
} from '../../src/oci/reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('docker hub defaults: registry docker.io, library/ prefix, tag latest', () => {
  assert.deepEqual(parseImageReference('alpine'), {
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: 'latest',
  });
  assert.deepEqual(parseImageReference('alpine:3.20'), {
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: '3.20',
  });
  assert.deepEqual(parseImageReference('grafana/grafana:10'), {
    registry: 'docker.io',
    repository: 'grafana/grafana',
    tag: '10',
  });
  assert.deepEqual(parseImageReference('docker.io/alpine'), {
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: 'latest',
  });
  assert.deepEqual(parseImageReference('index.docker.io/library/alpine:edge').registry, 'docker.io');
  assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('ghcr.io'), 'ghcr.io');
});

test('registry forms: domains, localhost, ports, IPv4 and IPv6 loopback', () => {
  assert.deepEqual(parseImageReference('ghcr.io/org/team/app:v1.2'), {
    registry: 'ghcr.io',
    repository: 'org/team/app',
    tag: 'v1.2',
  });
  assert.deepEqual(parseImageReference('localhost:5000/foo'), {
    registry: 'localhost:5000',
    repository: 'foo',
    tag: 'latest',
  });
  assert.deepEqual(parseImageReference('localhost/foo:1'), {
    registry: 'localhost',
    repository: 'foo',
    tag: '1',
  });
  assert.deepEqual(parseImageReference('127.0.0.1:5000/lab/busybox:1'), {
    registry: '127.0.0.1:5000',
    repository: 'lab/busybox',
    tag: '1',
  });
  assert.deepEqual(parseImageReference('[::1]:5000/x/y'), {
    registry: '[::1]:5000',
    repository: 'x/y',
    tag: 'latest',
  });
  // A single component with a port-like suffix is a tag on docker hub (docker's rule).
  assert.deepEqual(parseImageReference('localhost:5000'), {
    registry: 'docker.io',
    repository: 'library/localhost',
    tag: '5000',
  });
  // An uppercase first component is a registry host.
  assert.equal(parseImageReference('MyRegistry/app').registry, 'MyRegistry');
});

test('digests, with and without tag', () => {
  assert.deepEqual(parseImageReference(`alpine@${D}`), {
    registry: 'docker.io',
    repository: 'library/alpine',
    digest: D,
  });
  const both = parseImageReference(`127.0.0.1:5000/a/b:1@${D}`);
  assert.deepEqual(both, { registry: '127.0.0.1:5000', repository: 'a/b', tag: '1', digest: D });
  assert.equal(manifestReference(both), D, 'digest wins over tag');
  assert.equal(manifestReference(parseImageReference('a:x')), 'x');
  assert.equal(formatImageReference(both), `127.0.0.1:5000/a/b:1@${D}`);
  assert.equal(formatImageReference(parseImageReference('alpine')), 'docker.io/library/alpine:latest');
});

test('separators: multiple dashes and double underscore are valid', () => {
  assert.equal(parseImageReference('foo/a--b__c.d_e').repository, 'foo/a--b__c.d_e');
});

test('malformed references are rejected with clear errors', () => {
  const cases: [string, RegExp][] = [
    ['', /empty reference/],
    ['Alpine', /invalid repository path component "Alpine"/],
    ['foo/Bar', /invalid repository path component "Bar"/],
    ['foo//bar', /empty path component/],
    ['/foo', /leading or trailing/],
    ['foo/', /leading or trailing/],
    ['foo:', /invalid tag ""/],
    ['foo:-bad', /invalid tag "-bad"/],
    [`foo:${'t'.repeat(129)}`, /invalid tag/],
    ['foo@sha256:abc', /malformed digest|must be 64/],
    [`foo@sha256:${'A'.repeat(64)}`, /lowercase hex/],
    [`foo@md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    ['foo bar', /whitespace/],
    ['registry.example.com:99999/foo', /port 99999 out of range/],
    ['registry.example.com:abc/foo', /invalid registry port/],
    ['-bad.example.com/foo', /invalid registry host/],
    ['a..b/foo', /invalid registry host/],
    ['foo/a___b', /invalid repository path component "a___b"/],
    ['example.com/', /leading or trailing/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseImageReference(input),
      (err: unknown) => {
        assert.ok(err instanceof ImageReferenceError, `${input}: ${String(err)}`);
        assert.match(err.message, message, input);
        return true;
      },
    );
  }
});

test('loopback detection (http allowed only there by default)', () => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.9.9.9', '[::1]:5000'])
    assert.equal(isLoopbackRegistry(host), true, host);
  for (const host of ['docker.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1'])
    assert.equal(isLoopbackRegistry(host), false, host);
});
