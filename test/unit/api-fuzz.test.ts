import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestApp } from '../helpers/app.ts';

/**
 * Random and malformed requests against every operation in the served OpenAPI document:
 * the server must answer 4xx (or 2xx), never 5xx, and always with the JSON error shape.
 */
test('fuzz: no 5xx for random or malformed input on any route in the OpenAPI document', async (t) => {
  const a = await startTestApp(t);
  const doc = (await a.call('GET', '/api/openapi.json')).json;
  const ops: Array<{ method: string; path: string }> = [];
  for (const [path, item] of Object.entries<any>(doc.paths))
    for (const method of Object.keys(item)) ops.push({ method: method.toUpperCase(), path });
  assert.ok(ops.length >= 10, 'the OpenAPI document lists the routes');

  const segment = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('..', '%2e%2e', '%00', 'a'.repeat(300), '1', '-1', '💥', '%ff', "'; DROP TABLE users;--"),
  );
  const jsonValue = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ name: fc.string(), role: fc.string(), username: fc.string(), password: fc.anything() }),
    fc.constant({ name: 'x'.repeat(5000), role: 'admin' }),
  );
  const rawBody = fc.oneof(
    jsonValue.map((v) => ({ ct: 'application/json', body: JSON.stringify(v) })),
    fc.string({ maxLength: 200 }).map((s) => ({ ct: 'application/json', body: s })), // malformed JSON
    fc
      .constantFrom('{', '{"a":', '[1,2', 'null', '"str"', '{"__proto__":{"x":1}}')
      .map((s) => ({ ct: 'application/json', body: s })),
    fc.string({ maxLength: 100 }).map((s) => ({ ct: 'text/plain', body: s })),
    fc.string({ maxLength: 100 }).map((s) => ({ ct: 'application/x-www-form-urlencoded', body: s })),
  );
  const query = fc.dictionary(
    fc.constantFrom('limit', 'since', 'actor', 'outcome', 'beforeSeq', 'x'),
    fc.oneof(fc.string({ maxLength: 30 }), fc.constant('-5'), fc.constant('1e309')),
  );

  const seen5xx: string[] = [];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ops),
      segment,
      rawBody,
      query,
      fc.boolean(),
      async (op, seg, body, q, authed) => {
        const url =
          op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(seg)) +
          '?' +
          new URLSearchParams(q).toString();
        const headers: Record<string, string> = { 'content-type': body.ct };
        if (authed) headers.authorization = `Bearer ${a.adminToken}`;
        const res = await a.app.inject({
          method: op.method as any,
          url,
          headers,
          ...(op.method === 'GET' ? {} : { payload: body.body }),
        });
        if (res.statusCode >= 500)
          seen5xx.push(
            `${op.method} ${url} ${body.body.slice(0, 80)} -> ${res.statusCode} ${res.body.slice(0, 200)}`,
          );
        if (res.statusCode >= 400) {
          const j = res.json();
          assert.equal(typeof j.error?.code, 'string');
          assert.ok(Array.isArray(j.error?.details));
        }
      },
    ),
    { numRuns: 400, seed: Number(process.env.GRIM_FUZZ_SEED ?? Date.now() % 100000) },
  );
  assert.deepEqual(seen5xx, []);
});

test('validation lists every problem, and oversized bodies and unknown routes are 4xx', async (t) => {
  const a = await startTestApp(t);
  const r = await a.call('POST', '/api/users', {
    token: a.adminToken,
    body: { username: 'Bad Name!', password: 'short', role: 'root', extra: 1 },
  });
  assert.equal(r.status, 400);
  const paths = r.json.error.details.map((d: any) => d.path).sort();
  for (const p of ['body/username', 'body/password', 'body/role', 'body/extra'])
    assert.ok(
      paths.some((x: string) => x.startsWith(p)),
      `${p} in ${paths}`,
    );
  const big = await a.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), role: 'viewer' }),
  });
  assert.equal(big.statusCode, 413);
  assert.equal((await a.call('GET', '/api/nope', { token: a.adminToken })).status, 404);
  assert.equal((await a.call('DELETE', '/nothing/here')).status, 404);
  const long = await a.call('POST', '/api/tokens', {
    token: a.adminToken,
    body: { name: 'x'.repeat(65), role: 'viewer' },
  });
  assert.equal(long.status, 400);
});
