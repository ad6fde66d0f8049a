import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChallenge, parseWwwAuthenticate, WwwAuthenticateError } from '../../src/oci/www-authenticate.ts';

test('docker hub style bearer challenge', () => {
  const header =
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"';
  assert.deepEqual(parseWwwAuthenticate(header), [
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:samalba/my-app:pull,push',
      },
    },
  ]);
});

test('error params, unquoted values, spaces and case-insensitive names', () => {
  const [c] = parseWwwAuthenticate(
    'bearer Realm="http://127.0.0.1:1/token" , service=reg ,scope="repository:a/b:pull",error="insufficient_scope"',
  );
  assert.equal(c.scheme, 'bearer');
  assert.deepEqual(c.params, {
    realm: 'http://127.0.0.1:1/token',
    service: 'reg',
    scope: 'repository:a/b:pull',
    error: 'insufficient_scope',
  });
});

test('quoted-string escapes and commas inside quotes', () => {
  const [c] = parseWwwAuthenticate(
    'Bearer realm="a\\"b\\\\c",scope="repository:x:pull,push repository:y:pull"',
  );
  assert.equal(c.params.realm, 'a"b\\c');
  assert.equal(c.params.scope, 'repository:x:pull,push repository:y:pull');
});

test('several challenges in one header (as Headers.get joins them)', () => {
  const challenges = parseWwwAuthenticate(
    'Basic realm="Registry Realm", Bearer realm="https://t/token",service="s"',
  );
  assert.deepEqual(
    challenges.map((c) => c.scheme),
    ['basic', 'bearer'],
  );
  assert.equal(findChallenge(challenges, 'Bearer')?.params.service, 's');
  assert.equal(findChallenge(challenges, 'basic')?.params.realm, 'Registry Realm');
  assert.equal(findChallenge(challenges, 'digest'), undefined);
  assert.deepEqual(
    parseWwwAuthenticate('Basic, Bearer realm="x"').map((c) => c.scheme),
    ['basic', 'bearer'],
  );
});

test('token68 form and empty header', () => {
  assert.deepEqual(parseWwwAuthenticate('Negotiate abc123==')[0], {
    scheme: 'negotiate',
    params: {},
    token68: 'abc123==',
  });
  assert.deepEqual(parseWwwAuthenticate(''), []);
});

test('malformed headers throw', () => {
  assert.throws(() => parseWwwAuthenticate('Bearer realm="unterminated'), WwwAuthenticateError);
  assert.throws(
    () => parseWwwAuthenticate('Bearer service="x", realm='),
    /missing value for parameter realm/,
  );
  assert.throws(() => parseWwwAuthenticate('"quoted"'), /expected an auth scheme/);
});
