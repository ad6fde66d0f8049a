// Replication progress through the real API and job store (SQLite app, inject), the two SSH streams
// faked: with wait:false the call answers at once, and while the stream still runs the job already
// shows the bytes sent so far; at the end the job holds the total and succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { startTestApp } from '../helpers/app.ts';

const CHUNK = 64 * 1024;
const CHUNKS = 15;

test('replication with wait:false: the job shows bytes sent so far while the stream runs', async (t) => {
  const a = await startTestApp(t);
  a.services.storage.nodes.target = async (node) => ({ node }) as any;
  const pool = a.services.storage.d.pool;
  pool.stream = (async (_target: unknown, cmd: { name: string }) => {
    if (cmd.name === 'zfs-recv') {
      const channel = new PassThrough();
      const exit = new Promise((resolve) => channel.on('finish', () => resolve({ code: 0, stderr: '' })));
      return { channel, exit };
    }
    // zfs send: a chunk every 100 ms for 1.5 s
    let sent = 0;
    const channel = new Readable({
      read() {
        setTimeout(() => this.push(sent++ < CHUNKS ? Buffer.alloc(CHUNK) : null), 100);
      },
    });
    const exit = new Promise((resolve) => channel.on('end', () => resolve({ code: 0, stderr: '' })));
    return { channel, exit };
  }) as any;

  const started = await a.call('POST', '/api/storage/replications', {
    token: a.adminToken,
    body: {
      sourceNode: 'n1',
      snapshot: 'tank/data@r1',
      targetNode: 'n2',
      targetDataset: 'vault/copy',
      wait: false,
    },
  });
  assert.equal(started.status, 200, JSON.stringify(started.json));
  assert.equal(started.json.running, true);
  assert.equal(started.json.bytes, 0);

  const seenWhileRunning: number[] = [];
  let job: any;
  for (const end = Date.now() + 20_000; Date.now() < end;) {
    job = (await a.call('GET', `/api/jobs/${started.json.jobId}`, { token: a.adminToken })).json.job;
    if (job.status !== 'running') break;
    for (const m of (job.tasks[0].output as string).matchAll(/^sent (\d+) bytes/gm))
      seenWhileRunning.push(Number(m[1]));
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(job.status, 'succeeded', job.summary);
  assert.ok(
    seenWhileRunning.some((b) => b > 0 && b < CHUNK * CHUNKS),
    `bytes so far seen while running: ${seenWhileRunning.join(', ')}`,
  );
  assert.equal(job.tasks[0].result.bytes, CHUNK * CHUNKS);
  assert.match(job.tasks[0].output, new RegExp(`^sent ${CHUNK * CHUNKS} bytes`, 'm'));
});
