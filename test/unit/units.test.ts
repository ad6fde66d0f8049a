import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCpu, parseBytes, parseCpu } from '../../src/domain/units.ts';
import {
  DEFAULT_SIZES,
  checkSizeName,
  checkSizeSet,
  defineSize,
  describeSize,
  resolveResources,
} from '../../src/domain/sizes.ts';

const MI = 1024 ** 2;
const GI = 1024 ** 3;

test('parseCpu accepts millicores and cores with up to 3 decimals', () => {
  const cases: Array<[string, number]> = [
    ['100m', 100],
    ['250m', 250],
    ['1', 1000],
    ['1.5', 1500],
    ['2', 2000],
    ['0.001', 1],
    ['1.25', 1250],
  ];
  for (const [input, millis] of cases) assert.deepEqual(parseCpu(input), { ok: true, value: millis }, input);
});

test('parseCpu rejects malformed values and names the value and the accepted forms', () => {
  for (const input of [
    '1.2345',
    '-1',
    '100M',
    '1 cpu',
    '',
    'abc',
    '0',
    '0m',
    '1.',
    '.5',
    ' 1',
    '1e3',
    '99999999999999999',
  ]) {
    const r = parseCpu(input);
    assert.equal(r.ok, false, `expected ${JSON.stringify(input)} to be rejected`);
    if (r.ok) continue;
    assert.ok(r.error.includes(JSON.stringify(input)), r.error);
    assert.ok(r.error.includes('"250m"') && r.error.includes('"1.5"'), r.error);
  }
  assert.match((parseCpu('1.2345') as { error: string }).error, /more than 3 decimals/);
  assert.match((parseCpu('0') as { error: string }).error, /zero/);
  assert.match((parseCpu('-1') as { error: string }).error, /negative/);
  assert.equal(parseCpu(2 as unknown).ok, false);
});

test('parseBytes accepts binary and decimal units and plain bytes', () => {
  const cases: Array<[string, number]> = [
    ['128Mi', 128 * MI],
    ['1Gi', GI],
    ['512Mi', 512 * MI],
    ['2G', 2_000_000_000],
    ['500M', 500_000_000],
    ['1Ti', 1024 ** 4],
    ['1048576', 1048576],
    ['1.5Gi', 1.5 * GI],
    ['4k', 4000],
    ['8Ki', 8192],
  ];
  for (const [input, bytes] of cases) assert.deepEqual(parseBytes(input), { ok: true, value: bytes }, input);
});

test('parseBytes rejects bad units, signs, shapes and overflow with a clear error', () => {
  const reasons: Array<[string, RegExp]> = [
    ['1GB', /unknown unit "GB"/],
    ['1gi', /unknown unit "gi"/],
    ['12Q', /unknown unit "Q"/],
    ['-5Mi', /negative/],
    ['1.5.5Gi', /not a number/],
    ['9Pi', /too large/],
    ['99999999999999999999', /too large/],
    ['0', /zero/],
    ['', /empty/],
    ['0.5', /whole number of bytes/],
    ['1 Gi', /not a number/],
  ];
  for (const [input, reason] of reasons) {
    const r = parseBytes(input, 'memory');
    assert.equal(r.ok, false, `expected ${JSON.stringify(input)} to be rejected`);
    if (r.ok) continue;
    assert.match(r.error, reason);
    assert.ok(r.error.startsWith(`memory value ${JSON.stringify(input)}`), r.error);
    assert.ok(r.error.includes('"512Mi"') && r.error.includes('"2G"'), r.error);
  }
});

test('formatters give short exact forms that parse back', () => {
  assert.equal(formatCpu(1500), '1500m');
  assert.equal(formatCpu(2000), '2');
  assert.equal(formatCpu(250), '250m');
  assert.equal(formatBytes(GI), '1Gi');
  assert.equal(formatBytes(1536 * MI), '1536Mi');
  assert.equal(formatBytes(2_000_000_000), '2G');
  assert.equal(formatBytes(1500), '1500');
  for (const millis of [1, 999, 1000, 1001, 123456])
    assert.deepEqual(parseCpu(formatCpu(millis)), { ok: true, value: millis });
  for (const bytes of [1, 1023, 1024, 1000, 3 * GI, 2_000_000_000, 123456789])
    assert.deepEqual(parseBytes(formatBytes(bytes)), { ok: true, value: bytes });
});

test('default sizes match the agreed T-shirt set and are valid', () => {
  assert.deepEqual(DEFAULT_SIZES.map(describeSize), [
    'xs: 100m CPU, 128Mi memory, 1Gi disk',
    's: 250m CPU, 256Mi memory, 2Gi disk',
    'm: 1 CPU, 1Gi memory, 10Gi disk',
    'l: 2 CPU, 4Gi memory, 20Gi disk',
    'xl: 4 CPU, 8Gi memory, 40Gi disk',
  ]);
  assert.deepEqual(checkSizeSet(DEFAULT_SIZES), []);
});

test('size names follow [a-z0-9][a-z0-9-]{0,31}', () => {
  for (const ok of ['m', 'xl', '2xl', 'gpu-large', 'a'.repeat(32)])
    assert.equal(checkSizeName(ok), undefined, ok);
  for (const bad of ['', '-m', 'M', 'x_l', 'a'.repeat(33), 'x l'])
    assert.match(checkSizeName(bad) ?? '', /invalid/);
});

test('resolveResources: named size, explicit values, and overrides', () => {
  assert.deepEqual(resolveResources({ size: 'm' }), {
    ok: true,
    resources: { cpuMillis: 1000, memoryBytes: GI, diskBytes: 10 * GI },
    size: 'm',
  });
  assert.deepEqual(resolveResources({ cpu: '250m', memory: '512Mi', disk: '2Gi' }), {
    ok: true,
    resources: { cpuMillis: 250, memoryBytes: 512 * MI, diskBytes: 2 * GI },
    size: null,
  });
  assert.deepEqual(resolveResources({ size: 'm', memory: '3Gi' }), {
    ok: true,
    resources: { cpuMillis: 1000, memoryBytes: 3 * GI, diskBytes: 10 * GI },
    size: 'm',
  });
  const custom = [{ name: 'gpu', cpuMillis: 8000, memoryBytes: 32 * GI, diskBytes: 100 * GI }];
  assert.equal(resolveResources({ size: 'gpu' }, custom).ok, true);
  assert.equal(resolveResources({ size: 'm' }, custom).ok, false);
});

test('resolveResources collects every problem', () => {
  const r = resolveResources({ size: 'xxl', cpu: '1.2345', memory: '1GB', disk: '-1Gi' });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(
    r.problems.map((p) => p.field),
    ['size', 'cpu', 'memory', 'disk'],
  );
  assert.match(r.problems[0].message, /unknown size "xxl"; known sizes: xs, s, m, l, xl/);
  const missing = resolveResources({ cpu: '1' });
  assert.equal(missing.ok, false);
  if (!missing.ok)
    assert.deepEqual(missing.problems, [
      { field: 'memory', message: 'memory is required when no size is given' },
      { field: 'disk', message: 'disk is required when no size is given' },
    ]);
  const badName = resolveResources({ size: 'Big!' });
  assert.equal(badName.ok, false);
  if (!badName.ok) assert.match(badName.problems[0].message, /size name "Big!" is invalid/);
});

test('defineSize and checkSizeSet report all problems of admin-defined sizes', () => {
  assert.deepEqual(defineSize({ name: 'huge', cpu: '16', memory: '64Gi', disk: '1Ti' }), {
    ok: true,
    size: { name: 'huge', cpuMillis: 16000, memoryBytes: 64 * GI, diskBytes: 1024 ** 4 },
  });
  const bad = defineSize({ name: 'Huge', cpu: '0', memory: '64GB', disk: '1Ti' });
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.deepEqual(
      bad.problems.map((p) => p.field),
      ['name', 'cpu', 'memory'],
    );
  const problems = checkSizeSet([
    { name: 'a', cpuMillis: 1, memoryBytes: 1, diskBytes: 1 },
    { name: 'a', cpuMillis: 0, memoryBytes: 1.5, diskBytes: 1 },
  ]);
  assert.equal(problems.length, 3);
  assert.match(problems[0], /defined more than once/);
});
