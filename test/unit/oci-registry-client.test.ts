/**
 * RegistryClient against an in-test HTTP server implementing the v2 auth challenge flow as the
 * distribution token spec describes (401 + WWW-Authenticate: Bearer realm,service,scope → GET realm with
 * service/scope (+ Basic credentials) → {token|access_token, expires_in} → retry with Bearer), basic auth,
 * blob redirects to another origin, and digest verification.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '../../src/oci/digest.ts';
import { MEDIA_TYPE } from '../../src/oci/media-types.ts';
import { RegistryClient, RegistryError } from '../../src/oci/registry-client.ts';
import type { ImageIndex, ImageManifest } from '../../src/oci/types.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

async function serve(handler: Handler): Promise<{ server: Server; host: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

// Content served by the fake registry.
const layer = Buffer.from('layer bytes '.repeat(1000));
const layerDigest = sha256Digest(layer);
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] } }));
const configDigest = sha256Digest(config);
const manifest: ImageManifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.dockerManifest,
  config: { mediaType: MEDIA_TYPE.dockerConfig, digest: configDigest, size: config.length },
  layers: [{ mediaType: MEDIA_TYPE.dockerLayerGzip, digest: layerDigest, size: layer.length }],
};
const manifestBytes = Buffer.from(JSON.stringify(manifest));
const manifestDigest = sha256Digest(manifestBytes);
const list: ImageIndex = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.dockerManifestList,
  manifests: [
    {
      mediaType: MEDIA_TYPE.dockerManifest,
      digest: sha256Digest('arm'),
      size: 1,
      platform: { os: 'linux', architecture: 'arm64' },
    },
    {
      mediaType: MEDIA_TYPE.dockerManifest,
      digest: manifestDigest,
      size: manifestBytes.length,
      platform: { os: 'linux', architecture: 'amd64' },
    },
  ],
};
const listBytes = Buffer.from(JSON.stringify(list));
const corrupt = Buffer.from('tampered');
const corruptClaimed = sha256Digest('original');

let storage: { server: Server; host: string };
let tokenServer: { server: Server; host: string };
let registry: { server: Server; host: string };
const tokenLog: { scope: string[]; service: string | null; auth?: string }[] = [];
const registryLog: { method: string; url: string; auth?: string; accept?: string }[] = [];
const uploads = new Map<string, Buffer>();
const manifestsPut = new Map<string, { type?: string; body: Buffer }>();

before(async () => {
  storage = await serve((req, res) => {
    registryLog.push({
      method: req.method ?? '',
      url: `storage:${req.url}`,
      auth: req.headers.authorization,
    });
    if (req.url === `/bucket/${layerDigest}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(layer);
    } else {
      res.writeHead(404).end();
    }
  });
  tokenServer = await serve((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    tokenLog.push({
      scope: url.searchParams.getAll('scope'),
      service: url.searchParams.get('service'),
      auth: req.headers.authorization,
    });
    if (
      req.headers.authorization &&
      req.headers.authorization !== `Basic ${Buffer.from('alice:pw').toString('base64')}`
    ) {
      json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad password' }] });
      return;
    }
    const scopes = url.searchParams.getAll('scope').join(' ');
    // Alternate the two field names the spec allows.
    const field = tokenLog.length % 2 ? 'token' : 'access_token';
    json(res, 200, {
      [field]: `tok|${req.headers.authorization ? 'alice' : 'anon'}|${scopes}`,
      expires_in: 300,
    });
  });
  registry = await serve((req, res, body) => {
    const auth = req.headers.authorization;
    registryLog.push({ method: req.method ?? '', url: req.url ?? '', auth, accept: req.headers.accept });
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(path)?.[1] ?? '';
    const needPush = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH';
    const scope = `repository:${repo}:${needPush ? 'pull,push' : 'pull'}`;
    const challenge = `Bearer realm="http://${tokenServer.host}/token",service="fake-registry"${repo ? `,scope="${scope}"` : ''}`;
    if (repo.startsWith('basic/')) {
      if (auth !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) {
        json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'basic needed' }] },
          { 'www-authenticate': 'Basic realm="fake"' },
        );
        return;
      }
    } else if (path !== '/v2/' || auth) {
      const granted = auth?.startsWith('Bearer tok|') ? auth.split('|')[2].split(' ') : [];
      const ok =
        repo === ''
          ? !!auth
          : granted.includes(scope) || (!needPush && granted.includes(`repository:${repo}:pull,push`));
      if (!ok || (needPush && auth?.includes('|anon|'))) {
        json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          { 'www-authenticate': challenge },
        );
        return;
      }
    } else {
      json(
        res,
        401,
        {},
        { 'www-authenticate': challenge, 'docker-distribution-api-version': 'registry/2.0' },
      );
      return;
    }
    if (req.method === 'GET' && path.endsWith('/manifests/latest')) {
      res.writeHead(200, {
        'content-type': MEDIA_TYPE.dockerManifestList,
        'docker-content-digest': sha256Digest(listBytes),
      });
      res.end(listBytes);
    } else if (req.method === 'GET' && path.endsWith(`/manifests/${manifestDigest}`)) {
      res.writeHead(200, { 'content-type': MEDIA_TYPE.dockerManifest });
      res.end(manifestBytes);
    } else if (req.method === 'GET' && path.endsWith('/manifests/lying')) {
      res.writeHead(200, {
        'content-type': MEDIA_TYPE.dockerManifest,
        'docker-content-digest': sha256Digest('other'),
      });
      res.end(manifestBytes);
    } else if (path.endsWith(`/blobs/${configDigest}`)) {
      res.writeHead(200).end(config);
    } else if (path.endsWith(`/blobs/${layerDigest}`)) {
      res.writeHead(307, { location: `http://${storage.host}/bucket/${layerDigest}` }).end();
    } else if (path.endsWith(`/blobs/${corruptClaimed}`)) {
      res.writeHead(200).end(corrupt);
    } else if (req.method === 'HEAD' && path.includes('/blobs/')) {
      const digest = path.split('/').pop() as string;
      res.writeHead(uploads.has(digest) ? 200 : 404).end();
    } else if (req.method === 'POST' && path.endsWith('/blobs/uploads/')) {
      res.writeHead(202, { location: `/v2/${repo}/blobs/uploads/u-1?_state=abc` }).end();
    } else if (req.method === 'PUT' && path.includes('/blobs/uploads/')) {
      const digest = url.searchParams.get('digest') as string;
      assert.equal(url.searchParams.get('_state'), 'abc', 'upload state kept');
      if (sha256Digest(body) !== digest) {
        json(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'digest mismatch' }] });
        return;
      }
      uploads.set(digest, body);
      res.writeHead(201, { 'docker-content-digest': digest }).end();
    } else if (req.method === 'PUT' && path.includes('/manifests/')) {
      manifestsPut.set(path, { type: req.headers['content-type'], body });
      res.writeHead(201, { 'docker-content-digest': sha256Digest(body) }).end();
    } else {
      json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: `nothing at ${path}` }] });
    }
  });
});

after(async () => {
  for (const s of [storage, tokenServer, registry]) await new Promise((r) => s?.server.close(r));
});

test('ping returns the bearer challenge without authenticating', async () => {
  const ping = await new RegistryClient().ping(registry.host);
  assert.equal(ping.status, 401);
  assert.equal(ping.apiVersion, 'registry/2.0');
  assert.deepEqual(ping.challenges, [
    { scheme: 'bearer', params: { realm: `http://${tokenServer.host}/token`, service: 'fake-registry' } },
  ]);
});

test('anonymous token flow: challenge → token (service+scope) → retry; list → amd64 → config', async () => {
  tokenLog.length = 0;
  registryLog.length = 0;
  const client = new RegistryClient();
  const image = await client.resolveImage(`${registry.host}/team/app`);
  assert.equal(image.indexDigest, sha256Digest(listBytes));
  assert.equal(image.manifestDigest, manifestDigest);
  assert.deepEqual(image.config.config?.Cmd, ['sh']);
  assert.deepEqual(tokenLog, [
    { scope: ['repository:team/app:pull'], service: 'fake-registry', auth: undefined },
  ]);
  assert.equal(client.tokenRequests, 1, 'one token for the scope, reused for list, manifest and config');
  const first = registryLog[0];
  assert.equal(first.auth, undefined);
  for (const type of [
    MEDIA_TYPE.ociIndex,
    MEDIA_TYPE.ociManifest,
    MEDIA_TYPE.dockerManifestList,
    MEDIA_TYPE.dockerManifest,
  ]) {
    assert.ok(first.accept?.includes(type), `Accept includes ${type}`);
  }
  assert.equal(
    registryLog.filter((r) => r.auth === undefined).length,
    1,
    'only the very first request is unauthenticated',
  );
});

test('blob redirect: followed, Authorization not leaked to the other origin, digest verified; stream too', async () => {
  registryLog.length = 0;
  const client = new RegistryClient();
  const bytes = await client.fetchBlob(`${registry.host}/team/app`, manifest.layers[0]);
  assert.ok(bytes.equals(layer));
  const storageHits = registryLog.filter((r) => r.url.startsWith('storage:'));
  assert.equal(storageHits.length, 1);
  assert.equal(storageHits[0].auth, undefined);
  const chunks: Buffer[] = [];
  for await (const chunk of await client.openBlobStream(`${registry.host}/team/app`, manifest.layers[0]))
    chunks.push(chunk);
  assert.ok(Buffer.concat(chunks).equals(layer));
});

test('digest mismatch is rejected: buffer, stream, download (no file left) and manifest header', async () => {
  const client = new RegistryClient();
  const ref = `${registry.host}/team/app`;
  await assert.rejects(client.fetchBlob(ref, { digest: corruptClaimed }), /digest mismatch/);
  const stream = await client.openBlobStream(ref, { digest: corruptClaimed });
  await assert.rejects(async () => {
    for await (const _ of stream) {
      // drain
    }
  }, /digest mismatch/);
  await assert.rejects(
    client.fetchBlob(ref, { digest: configDigest, size: config.length + 1 }),
    /size mismatch/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'grim-oci-dl-'));
  try {
    await assert.rejects(
      client.downloadBlob(ref, { digest: corruptClaimed }, join(dir, 'blob')),
      /digest mismatch/,
    );
    assert.deepEqual(readdirSync(dir), []);
    await client.downloadBlob(ref, manifest.config, join(dir, 'config'));
    assert.deepEqual(readdirSync(dir), ['config']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(
    client.getManifest(`${registry.host}/team/app:lying`),
    /Docker-Content-Digest .* does not match/,
  );
  // Fetching by digest verifies the content against the requested digest.
  await assert.rejects(
    client.getManifest(`${registry.host}/team/app`, sha256Digest('x')),
    (err: unknown) => err instanceof RegistryError && err.status === 404,
  );
});

test('push with credentials: token for pull,push with Basic auth, monolithic upload, manifest PUT', async () => {
  tokenLog.length = 0;
  const client = new RegistryClient({
    credentials: { [registry.host]: { username: 'alice', password: 'pw' } },
  });
  const ref = `${registry.host}/team/pushed:v1`;
  const data = Buffer.from('a new blob');
  const desc = await client.pushBlob(ref, data, MEDIA_TYPE.ociLayer);
  assert.deepEqual(desc, { mediaType: MEDIA_TYPE.ociLayer, digest: sha256Digest(data), size: data.length });
  assert.ok(uploads.get(desc.digest)?.equals(data));
  const again = await client.pushBlob(ref, data);
  assert.equal(again.digest, desc.digest, 'existing blob is skipped');
  const { digest } = await client.pushManifest(ref, manifest, MEDIA_TYPE.dockerManifest);
  assert.equal(digest, sha256Digest(JSON.stringify(manifest)));
  assert.equal(manifestsPut.get('/v2/team/pushed/manifests/v1')?.type, MEDIA_TYPE.dockerManifest);
  const basic = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
  assert.ok(
    tokenLog.every((t) => t.auth === basic),
    'credentials sent to the token endpoint',
  );
  assert.deepEqual([...new Set(tokenLog.map((t) => t.scope.join(' ')))].sort(), [
    'repository:team/pushed:pull',
    'repository:team/pushed:pull,push',
  ]);
  assert.equal(client.tokenRequests, 2, 'one token per scope, cached');
});

test('anonymous push is refused with a clear 401; wrong credentials fail at the token endpoint', async () => {
  await assert.rejects(
    new RegistryClient().pushBlob(`${registry.host}/team/x`, Buffer.from('zz')),
    (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 401);
      assert.match(err.message, /unauthorized after authenticating/);
      return true;
    },
  );
  const wrong = new RegistryClient({ credentials: () => ({ username: 'alice', password: 'nope' }) });
  await assert.rejects(
    wrong.resolveImage(`${registry.host}/team/app`),
    /token request to .* failed \(401\): UNAUTHORIZED: bad password/,
  );
});

test('basic auth registries: credentials sent after the Basic challenge, then up front', async () => {
  registryLog.length = 0;
  const client = new RegistryClient({
    credentials: { [registry.host]: { username: 'bob', password: 'pw' } },
  });
  const image = await client.resolveImage(`${registry.host}/basic/app`);
  assert.equal(image.manifestDigest, manifestDigest);
  assert.equal(
    registryLog.filter((r) => !r.auth).length,
    1,
    'only the first request goes without credentials',
  );
  await assert.rejects(
    new RegistryClient().resolveImage(`${registry.host}/basic/app`),
    /wants basic auth and no credentials/,
  );
});

test('plain http only for loopback or explicitly insecure registries (checked before any request)', async () => {
  let called = 0;
  const fakeFetch = (async () => {
    called++;
    return new Response('{}', { status: 200 });
  }) as typeof fetch;
  const client = new RegistryClient({ fetch: fakeFetch, insecureRegistries: ['10.1.2.3:5000'] });
  assert.equal(client.baseUrl('registry.example.com'), 'https://registry.example.com');
  assert.equal(client.baseUrl('docker.io'), 'https://registry-1.docker.io');
  assert.equal(client.baseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  assert.equal(client.baseUrl('localhost:5000'), 'http://localhost:5000');
  assert.equal(client.baseUrl('10.1.2.3:5000'), 'http://10.1.2.3:5000');
  assert.equal(client.allowsHttp('10.9.9.9:5000'), false);

  // An https registry redirecting a blob to plain http on a non-loopback host is refused.
  const redirecting = new RegistryClient({
    fetch: (async (input: URL | RequestInfo) => {
      called++;
      if (String(input).startsWith('https://registry.example.com/')) {
        return new Response(null, { status: 307, headers: { location: 'http://storage.example.com/blob' } });
      }
      throw new Error(`unexpected fetch ${String(input)}`);
    }) as typeof fetch,
  });
  await assert.rejects(
    redirecting.fetchBlob('registry.example.com/a/b', { digest: layerDigest }),
    /refusing http:\/\/storage\.example\.com/,
  );
  assert.equal(called, 1);
});
