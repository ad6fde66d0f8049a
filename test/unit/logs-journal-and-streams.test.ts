// Node system logs from systemd-journald and instance stdout/stderr as separate streams, without SSH:
// - journal entries as logs-read.sh reports them: test/fixtures/journal/journalctl-o-json.jsonl was RECORDED from a
//   real systemd-journald 252 (Debian 12) with `journalctl -o json` (one plain message, one with an invalid UTF-8
//   byte, which journalctl gives as an array of bytes); the lab test (logs-shipping-loki-protocol-double) reads a
//   live journald on a lab node;
// - which files of an instance are tailed and under which `stream` label; the settings that turn the journal off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJournalLine, journalFieldText } from '../../src/domain/logs/journal.ts';
import { parseRead } from '../../src/domain/logs/read-output.ts';
import { instanceLogFiles } from '../../src/services/logs/sources.ts';
import { DriverSet, builtinDrivers } from '../../src/drivers/driver-set.ts';
import { createFirecrackerDriver } from '../../src/drivers/firecracker/driver.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { logShippingFromEnv } from '../../src/services/logs/settings.ts';
import { instanceSource, journalSource, STREAM_LABEL_NAMES } from '../../src/domain/logs/streams.ts';

const network = {
  ipam: { allocate: () => Promise.reject(new Error('unused')), release: () => Promise.resolve() },
};
const kernel = { name: 'k', image: '/vm/vmlinux' };

const recorded = readFileSync(
  join(import.meta.dirname, '../fixtures/journal/journalctl-o-json.jsonl'),
  'utf8',
).trimEnd();

test('recorded journalctl -o json entries become lines with their cursor, time and bounded metadata', () => {
  const [plain, binary] = recorded.split('\n').map(parseJournalLine);
  assert.ok(plain && binary);
  assert.equal(plain.line, 'web started on :8080');
  assert.match(plain.cursor, /^s=[0-9a-f]+;i=[0-9a-f]+;b=[0-9a-f]+;m=[0-9a-f]+;t=[0-9a-f]+;x=[0-9a-f]+$/);
  assert.equal(plain.tsNs, BigInt(JSON.parse(recorded.split('\n')[0]).__REALTIME_TIMESTAMP) * 1000n);
  assert.deepEqual(Object.fromEntries(plain.metadata), {
    syslog_identifier: 'shop',
    priority: '6',
    pid: '1016',
  });
  // invalid UTF-8: journalctl gives the bytes as an array; the line keeps the rest, the bad byte becomes U+FFFD
  assert.equal(binary.line, 'bad byte \uFFFD here');
  assert.equal(Object.fromEntries(binary.metadata).priority, '3');
  assert.notEqual(binary.cursor, plain.cursor);
  assert.equal(parseJournalLine('{"MESSAGE":"no cursor"}'), null);
  assert.equal(parseJournalLine('not json'), null);
  assert.equal(journalFieldText(['a', [98]]), 'a\nb', 'a field repeated in one entry');
});

test('logs-read output: the journal chunk after the file chunks, JSON lines not mistaken for the result line', () => {
  const lines = recorded.split('\n');
  const out = [
    '@grim-log 1 42 0 4 1 0 -',
    'abc',
    `@grim-journal after ${lines.length}`,
    ...lines,
    '{"ok":true}',
  ].join('\n');
  const r = parseRead(out);
  assert.deepEqual(r.files[0].lines, ['abc']);
  assert.deepEqual(r.journal, { mode: 'after', entries: lines });
  assert.deepEqual(parseRead('@grim-journal none 0\n{"ok":true}\n').journal, { mode: 'none', entries: [] });
  assert.throws(() => parseRead('@grim-journal after 3\n{}\n{"ok":true}\n'), /cut short|no result line/);
});

test('an instance ships stdout and stderr as two streams; a microVM console as one', () => {
  const drivers = new DriverSet([
    ...builtinDrivers(),
    createFirecrackerDriver({ registry: new RegistryClient(), kernel, network, vmRoot: '/srv/vm' }),
  ]);
  const handle = (driver: string, data: Record<string, unknown> = {}) =>
    JSON.stringify({ driver, instanceId: 'web-1-abcde', node: 'n1', data });
  const script = instanceLogFiles(drivers, handle('script'));
  assert.deepEqual(script, [
    { path: '/var/lib/grim/apps/web-1-abcde/log', stream: 'stdout' },
    { path: '/var/lib/grim/apps/web-1-abcde/stderr', stream: 'stderr' },
  ]);
  const container = instanceLogFiles(
    drivers,
    handle('container', { stateDir: '/var/lib/grim', instanceDir: '/var/lib/grim/containers/web-1-abcde' }),
  );
  assert.deepEqual(container, [
    { path: '/var/lib/grim/containers/web-1-abcde/output.log', stream: 'stdout' },
    { path: '/var/lib/grim/containers/web-1-abcde/stderr.log', stream: 'stderr' },
  ]);
  const vm = instanceLogFiles(drivers, handle('firecracker', { dir: '/srv/vm/instances/web-1-abcde' }));
  assert.deepEqual(vm, [{ path: '/srv/vm/instances/web-1-abcde/serial.log', stream: 'console' }]);
  const [out, err] = script.map((f) =>
    instanceSource({ instance: 'web-1-abcde', app: 'web', node: 'n1', env: 'prod', group: 'g', ...f }),
  );
  assert.equal(out.labels.stream, 'stdout');
  assert.equal(err.labels.stream, 'stderr');
  assert.equal(out.key, 'instance:web-1-abcde', 'stdout keeps the cursor of the former single output file');
  assert.notEqual(err.key, out.key);
  const j = journalSource({ node: 'n1', env: 'prod', group: 'g', directory: '' });
  assert.deepEqual(j.labels, { env: 'prod', group: 'g', node: 'n1', stream: 'journal' });
  for (const s of [out, err, j])
    for (const k of Object.keys(s.labels)) assert.ok(STREAM_LABEL_NAMES.includes(k as never));
});

test('journal settings: on by default, GRIM_LOG_JOURNAL=off, a plain journal directory only', () => {
  const base = { GRIM_LOKI_URL: 'http://loki:3100' };
  assert.equal(logShippingFromEnv(base)?.journal, undefined);
  assert.equal(logShippingFromEnv({ ...base, GRIM_LOG_JOURNAL: 'off' })?.journal, false);
  assert.equal(
    logShippingFromEnv({ ...base, GRIM_LOG_JOURNAL_DIR: '/var/log/journal' })?.journalDir,
    '/var/log/journal',
  );
  assert.throws(() => logShippingFromEnv({ ...base, GRIM_LOG_JOURNAL: 'maybe' }), /on or off/);
  assert.throws(() => logShippingFromEnv({ ...base, GRIM_LOG_JOURNAL_DIR: '/x;rm -rf /' }), /plain path/);
});
