import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from '../../src/ssh/semaphore.ts';
import { lastLineJson, OutputTail } from '../../src/ssh/output.ts';
import { RemoteCommandError } from '../../src/ssh/errors.ts';
import { assertSucceeded } from '../../src/ssh/run-script.ts';

test('Semaphore: never more than limit holders, FIFO hand-over, release is idempotent', async () => {
  const sem = new Semaphore(2);
  let inside = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const release = await sem.acquire();
      inside++;
      peak = Math.max(peak, inside);
      order.push(i);
      await new Promise((r) => setImmediate(r));
      inside--;
      release();
      release();
    }),
  );
  assert.equal(peak, 2);
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
  );
  assert.equal(sem.active, 0);
});

test('Semaphore: an aborted waiter leaves the queue', async () => {
  const sem = new Semaphore(1);
  const hold = await sem.acquire();
  const ac = new AbortController();
  const waiting = sem.acquire(ac.signal);
  assert.equal(sem.queued, 1);
  ac.abort(new Error('gave up'));
  await assert.rejects(waiting, /gave up/);
  assert.equal(sem.queued, 0);
  hold();
  assert.equal(sem.active, 0);
});

test('OutputTail keeps the tail when output exceeds the limit', () => {
  const tail = new OutputTail(10);
  for (let i = 0; i < 100; i++) tail.push(`${i}\n`);
  assert.equal(tail.toString(), '\n97\n98\n99\n'.slice(-10));
  assert.ok(tail.truncated);
});

test('lastLineJson parses only a JSON last line', () => {
  assert.deepEqual(lastLineJson('noise\n{"a":1}\n\n'), { a: 1 });
  assert.equal(lastLineJson('{"a":1}\ndone\n'), undefined);
  assert.equal(lastLineJson('{broken\n'), undefined);
});

test('assertSucceeded raises RemoteCommandError with node, script, exit code and stderr tail', () => {
  const ok = { exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false };
  assert.equal(assertSucceeded('n1', 'facts', ok), ok);
  const stderr = 'x\n'.repeat(5000) + 'disk full\n';
  const err = captureError(() => assertSucceeded('n1', 'facts', { ...ok, exitCode: 3, stderr }));
  assert.ok(err instanceof RemoteCommandError);
  assert.equal(err.nodeId, 'n1');
  assert.equal(err.script, 'facts');
  assert.equal(err.exitCode, 3);
  assert.equal(err.code, 'remote_failed');
  assert.match(err.message, /n1: facts exited with 3: disk full/);
  assert.ok(err.stderrTail.endsWith('disk full') && err.stderrTail.length <= 2000);
  assert.throws(() => assertSucceeded('n1', 'x', { ...ok, exitCode: null, timedOut: true }), /timed out/);
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return assert.fail('expected an error');
}
