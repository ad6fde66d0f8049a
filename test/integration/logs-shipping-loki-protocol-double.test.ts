// Log shipping on a 3-node Debian lab into a Loki PROTOCOL DOUBLE (test/helpers/loki-push-double.ts: every request
// is decoded and checked against Loki's official push.proto). Three real script-app instances write numbered lines
// to stdout and stderr (one of them over-long), the test appends to the syslog of n1 and n2, and n3 runs a REAL
// systemd-journald (the host's, Debian 12) that the test writes to with systemd-cat; grim ships all of it while
// it is restarted (a new process state on the same database), a node's link goes down and up, and the double
// answers 429. Every line must arrive exactly once, in order per stream (stdout and stderr apart), with bounded
// labels; n3's syslog file is not shipped, as its journal is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { withLab } from '../helpers/lab.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, waitJob } from '../helpers/apps-lab.ts';
import { ALLOWED_LABELS, pushProtoMissing, startLokiPushDouble } from '../helpers/loki-push-double.ts';
import { execInNode, linkDown, linkUp } from '../../src/lab/lab.ts';
import { createServices } from '../../src/server/start.ts';
import { configFromEnv } from '../../src/server/config.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { LogShipper } from '../../src/services/logs/shipper.ts';
import { MAX_LINE_BYTES, TRUNCATION_MARK } from '../../src/domain/logs/line-limit.ts';

const LINES = 3000;
const WRITER = `i=0
long=$(head -c 300000 /dev/zero | tr '\\0' x)
while [ "$i" -lt ${LINES} ]; do
  i=$((i + 1))
  if [ "$i" -eq 1000 ]; then echo "$GRIM_INSTANCE long $i $long"
  elif [ $((i % 10)) -eq 0 ]; then echo "$GRIM_INSTANCE err $i" >&2
  else echo "$GRIM_INSTANCE out $i"; fi
  if [ $((i % 25)) -eq 0 ]; then sleep 0.1; fi
done
exec sleep 100000
`;

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 60_000, detail = () => '') {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await delay(200);
  }
}

test(
  'log shipping from a 3-node lab, checked by a Loki push protocol double',
  { timeout: 600_000 },
  async (t) => {
    const missing = pushProtoMissing();
    if (missing) return t.skip(missing);
    const lab = await withLab(t, { nodes: 3, os: 'debian' });
    if (!lab) return;
    const a = await startTestApp(t);
    await addLab(a, lab, 'three');
    const loki = await startLokiPushDouble({ tenant: 'lab' });
    t.after(() => loki.close());

    // A grim "process": its own database handle and SSH pool on the shared data directory.
    const grimProcess = async () => {
      const config = configFromEnv({ dataDir: a.dataDir, host: '127.0.0.1', port: 0 }, {});
      const s = await createServices(config, openSqlite(join(a.dataDir, 'grim.db')));
      const shipper = new LogShipper(
        { db: s.db, pool: s.pool, drivers: s.apps.drivers },
        {
          target: { url: loki.url, tenant: 'lab' },
          readIntervalMs: 500,
          batchWaitMs: 500,
          log: (l) => console.log(`# ${l}`),
        },
      );
      const stop = shipper.start();
      return {
        shipper,
        db: s.db,
        stop: async () => {
          await stop();
          s.pool.close();
          await s.db.close();
        },
      };
    };

    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    // Node logs: the lab's Debian nodes have no syslog daemon, so the test plays one (appending to /var/log/syslog).
    for (const i of [1, 2, 3]) await execInNode(lab, i, 'touch /var/log/syslog');
    // n3 has a systemd journal: the host's systemd-journald runs in the node (its own /run and /var/log).
    await execInNode(
      lab,
      3,
      `mkdir -p /var/log/journal && (setsid /lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &)
       i=0; while [ ! -S /run/systemd/journal/stdout ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
       echo "before grim" | systemd-cat -t grimtest
       until journalctl -t grimtest -o cat --no-pager | grep -q "before grim"; do
         [ $i -lt 200 ] || exit 1; sleep 0.1; i=$((i + 1))
       done`,
    );
    let grim = await grimProcess();
    t.after(() => grim.stop().catch(() => undefined));
    // The syslog and journal cursors start at their end: wait until every node's is stored, then write.
    await until('node log cursors', async () => {
      const rows = await grim.db.all<{ source_key: string }>(
        "SELECT source_key FROM log_cursors WHERE source_key LIKE 'node:%'",
      );
      return (
        rows
          .map((r) => r.source_key)
          .sort()
          .join(' ') === 'node:n1:syslog:/var/log/syslog node:n2:syslog:/var/log/syslog node:n3:journal'
      );
    });
    let journalSeq = 0;
    const writeJournal = async (n: number) => {
      const from = journalSeq + 1;
      journalSeq += n;
      await execInNode(
        lab,
        3,
        `seq ${from} ${journalSeq} | sed 's/^/n3 journal /' | systemd-cat -t grimtest`,
      );
    };
    await writeJournal(100);
    let syslogSeq = 0;
    const writeSyslog = async (n: number, nodes = [1, 2, 3]) => {
      const from = syslogSeq + 1;
      syslogSeq += n;
      for (const i of nodes)
        await execInNode(
          lab,
          i,
          `for k in $(seq ${from} ${syslogSeq}); do echo "n${i} syslog $k"; done >> /var/log/syslog`,
        );
    };
    await writeSyslog(100);

    const created = await call('POST', '/api/apps', {
      name: 'writer',
      environment: 'lab',
      group: 'three',
      replicas: 3,
      cpu: '50m',
      memory: '32Mi',
      disk: '100Mi',
      runtime: 'script',
      source: { kind: 'script', start: WRITER },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const deploy = await call('POST', '/api/apps/writer/deploy', {});
    assert.equal(deploy.status, 202, JSON.stringify(deploy.json));
    assert.equal((await waitJob(a, deploy.json.jobId)).status, 'succeeded');
    const instances = (await call('GET', '/api/apps/writer')).json.app.instances as {
      id: string;
      node: string;
    }[];
    assert.equal(instances.length, 3);

    // The instance's stdout file also holds its supervisor's notes ("supervisor: ..."): shipped too, not counted here.
    const received = (instance: string, stream: 'stdout' | 'stderr') =>
      [...loki.streams]
        .filter(([s]) => s.includes(`instance="${instance}"`) && s.includes(`stream="${stream}"`))
        .flatMap(([, e]) => e)
        .filter((e) => !e.line.startsWith('supervisor: '));
    const nodeStream = (n: number, stream: string) =>
      [...loki.streams].find(([s]) => s.includes(`node="n${n}"`) && s.includes(`stream="${stream}"`))?.[1] ??
      [];
    const journalLines = () =>
      nodeStream(3, 'journal').filter((e) => e.metadata.syslog_identifier === 'grimtest');
    await until('first lines', () => instances.every((i) => received(i.id, 'stdout').length > 50));

    // 1. Loki answers 429 twice: grim backs off (Retry-After: 1) and loses nothing.
    loki.script.push(
      { status: 429, body: 'ingestion rate limit exceeded', retryAfter: '1' },
      { status: 429 },
    );
    await until(
      'the 429s answered and retried',
      () => loki.script.length === 0 && grim.shipper.stats.rateLimited >= 2,
    );
    const after429 = loki.requests.findIndex((r) => r.status === 429);
    assert.ok(loki.requests[after429 + 1].at - loki.requests[after429].at >= 900, 'waited for Retry-After');

    // 2. grim restarts while the instances keep writing.
    console.log('# restarting grim');
    await writeSyslog(100);
    await writeJournal(100);
    await grim.stop();
    await writeSyslog(100);
    await writeJournal(100);
    await delay(1000);
    grim = await grimProcess();

    // 3. Node 2's link goes down for 6 s, and comes back.
    console.log('# link of n2 down');
    const onNode = (n: string) =>
      [...loki.streams].filter(([s]) => s.includes(`node="${n}"`)).reduce((a, [, e]) => a + e.length, 0);
    await linkDown(lab, 2);
    await delay(1500);
    const n2During = onNode('n2');
    const n1During = onNode('n1');
    await delay(5000);
    assert.equal(onNode('n2'), n2During, 'nothing arrives from n2 while its link is down');
    const n1Id = instances.find((i) => i.node === 'n1')!.id;
    assert.ok(onNode('n1') > n1During || received(n1Id, 'stdout').length >= LINES * 0.9);
    await linkUp(lab, 2);
    await writeSyslog(100);
    await writeJournal(100);

    const want = (id: string, stream: 'stdout' | 'stderr') => {
      const lines: string[] = [];
      for (let i = 1; i <= LINES; i++) {
        const err = i % 10 === 0 && i !== 1000; // line 1000 is the long one, on stdout
        if (err === (stream === 'stderr'))
          lines.push(`${id} ${i === 1000 ? 'long' : err ? 'err' : 'out'} ${i}`);
      }
      return lines;
    };
    await until(
      'every line',
      () =>
        instances.every(
          (i) =>
            received(i.id, 'stdout').length >= want(i.id, 'stdout').length &&
            received(i.id, 'stderr').length >= want(i.id, 'stderr').length,
        ) &&
        [1, 2].every((n) => nodeStream(n, 'syslog').length >= syslogSeq) &&
        journalLines().length >= journalSeq,
      240_000,
      () =>
        JSON.stringify({
          instances: instances.map((i) => [
            received(i.id, 'stdout').length,
            want(i.id, 'stdout').length,
            received(i.id, 'stderr').length,
            want(i.id, 'stderr').length,
          ]),
          syslog: [1, 2].map((n) => nodeStream(n, 'syslog').length),
          syslogSeq,
          journal: journalLines().length,
          journalSeq,
          streams: [...loki.streams.keys()],
        }),
    );
    await delay(1500); // anything extra (a duplicate) would arrive now
    assert.ok(grim.shipper.stats.readFailures >= 1, 'the down link was noticed');
    await grim.stop();

    assert.deepEqual(loki.violations, [], 'every request matched push.proto and Loki limits');
    for (const i of instances) {
      const got = received(i.id, 'stdout');
      const lines = got.map((e) =>
        e.line.includes(' long ') ? e.line.split(' ').slice(0, 3).join(' ') : e.line,
      );
      assert.deepEqual(
        lines,
        want(i.id, 'stdout'),
        `instance ${i.id} stdout: each line exactly once, in order`,
      );
      assert.deepEqual(
        received(i.id, 'stderr').map((e) => e.line),
        want(i.id, 'stderr'),
        `instance ${i.id} stderr: each line exactly once, in order, in its own stream`,
      );
      assert.equal(received(i.id, 'stderr')[0].metadata.filename, `/var/lib/grim/apps/${i.id}/stderr`);
      const long = got.find((e) => e.line.includes(' long 1000 '))!;
      assert.ok(long.line.endsWith(TRUNCATION_MARK) && Buffer.byteLength(long.line) <= MAX_LINE_BYTES);
      assert.equal(long.metadata.truncated, 'true');
      assert.ok(Number(long.metadata.original_bytes) > 300_000);
      assert.equal(got[0].metadata.filename, `/var/lib/grim/apps/${i.id}/log`);
    }
    for (const n of [1, 2])
      assert.deepEqual(
        nodeStream(n, 'syslog').map((e) => e.line),
        Array.from({ length: syslogSeq }, (_, k) => `n${n} syslog ${k + 1}`),
        `node n${n} syslog: exactly once, in order`,
      );
    // n3: its journal (read with journalctl --after-cursor, the cursor in grim's database), not its syslog file
    assert.deepEqual(
      journalLines().map((e) => e.line),
      Array.from({ length: journalSeq }, (_, k) => `n3 journal ${k + 1}`),
      'node n3 journal: exactly once, in order, nothing from before grim started',
    );
    assert.equal(journalLines()[0].metadata.priority, '6');
    assert.equal(nodeStream(3, 'syslog').length, 0, "n3's syslog file is not shipped: its journal is");
    // Bounded labels: only the six names, and one stream per instance output and per node log.
    for (const set of loki.labelSets) for (const k of Object.keys(set)) assert.ok(ALLOWED_LABELS.has(k), k);
    assert.equal(loki.streams.size, 9, [...loki.streams.keys()].join('\n'));
    const inst = loki.labelSets.find((s) => s.instance === instances[0].id)!;
    assert.deepEqual(Object.keys(inst).sort(), ['app', 'env', 'group', 'instance', 'node', 'stream']);
    // Batches stay within ~1 MB.
    assert.ok(
      loki.requests.every((r) => r.bytes <= 1_100_000),
      'pushes ≤ ~1 MB',
    );
  },
);
