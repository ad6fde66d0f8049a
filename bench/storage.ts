// Storage benchmark (root): npm run bench:storage
// Provisions a 3-node SeaweedFS cluster on a lab with grim (3 masters, 3 volume servers, a filer, an S3
// gateway, replication 001) and reports the time it took; then S3 PUT and GET throughput and latency through
// the grim-provisioned gateway with the AWS SDK (SigV4) from this host, next to SeaweedFS's own
// `weed benchmark` on the same lab in the same run, as ratios. grim is not on the data path: clients talk to
// the S3 gateway directly. A third row is SeaweedFS's direct path (master assign/lookup, then the volume
// server, as weed benchmark does it) driven from this host with the same client concurrency: it separates
// what the S3 gateway + filer cost from what the client side costs, and gives the GET peer, because
// `weed benchmark` sends no read JWT (bench/lib/seaweed-direct.ts) and a secured cluster refuses its reads. STORAGE_N (default 300) objects of STORAGE_SIZE bytes (default 65536),
// STORAGE_C (default 8) concurrent clients.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { checkLabPrerequisites } from '../src/lab/lab.ts';
import { withBenchLab } from './lib/fanout-lab.ts';
import { startTestApp } from '../test/helpers/app.ts';
import { addSeaweedLab, s3Client, waitCluster, weedBinary } from '../test/helpers/seaweedfs-lab.ts';
import { bareReadStatus, directRead, directWrite, type Stored } from './lib/seaweed-direct.ts';

const N = Number(process.env.STORAGE_N ?? 300);
const SIZE = Number(process.env.STORAGE_SIZE ?? 65536);
const C = Number(process.env.STORAGE_C ?? 8);

const missing = await checkLabPrerequisites();
if (missing.length) {
  console.error(`storage benchmark needs the lab: ${missing.join('; ')}`);
  process.exit(1);
}
const weed = weedBinary();

interface Phase {
  ops: number;
  seconds: number;
  latenciesMs: number[];
}
const pct = (a: number[], p: number) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function run(n: number, c: number, fn: (i: number) => Promise<void>): Promise<Phase> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await fn(i);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { ops: n, seconds: (performance.now() - started) / 1000, latenciesMs };
}

/** weed benchmark's report: requests per second and latency percentiles of its write and read sections. */
function parseWeedBenchmark(out: string) {
  const section = (title: RegExp) => {
    const i = out.search(title);
    if (i < 0) throw new Error(`weed benchmark printed no ${title} section:\n${out}`);
    const end = out.indexOf('------------', i + 20);
    const text = out.slice(i, end < 0 ? undefined : end);
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      rps: num(/Requests per second:\s+([\d.]+)/),
      failed: num(/Failed requests:\s+(\d+)/),
      p50: num(/\s50%\s+([\d.]+) ms/),
      p99: num(/\s99%\s+([\d.]+) ms/),
    };
  };
  const r = { write: section(/Writing Benchmark/), read: section(/Reading Benchmark/) };
  if (Number.isNaN(r.read.rps) || Number.isNaN(r.write.rps))
    console.error(`could not read weed benchmark's report:\n${out}`);
  return r;
}

const afters: (() => unknown)[] = [];
await withBenchLab(
  3,
  () => {},
  async (lab) => {
    try {
      const a = await startTestApp({ after: (fn: () => unknown) => afters.push(fn) });
      const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
      await addSeaweedLab(a, lab, 'bench', 3);
      await call('POST', '/api/storage/releases', { version: 'bench', path: weed });
      const t0 = performance.now();
      const created = await call('POST', '/api/storage/clusters/bench', {
        masters: ['n1', 'n2', 'n3'],
        filers: ['n1'],
        s3: ['n1'],
        replication: '001',
        volumeSizeLimitMB: 256,
        version: 'bench',
      });
      if (created.status !== 200) throw new Error(JSON.stringify(created.json));
      const cluster = await waitCluster(a, 'bench');
      const provisionS = (performance.now() - t0) / 1000;
      if (cluster.state !== 'ready') throw new Error(`cluster ${cluster.state}: ${cluster.stateReason}`);
      afters.unshift(() => call('DELETE', '/api/storage/clusters/bench?deleteData=true'));
      await call('POST', '/api/storage/clusters/bench/buckets', { name: 'bench' });
      const key = (
        await call('POST', '/api/storage/clusters/bench/keys', {
          name: 'bench',
          bucket: 'bench',
          actions: ['Read', 'Write'],
        })
      ).json.key;
      const s3 = s3Client(key.endpoints[0], key);
      const body = Buffer.alloc(SIZE, 7);
      // warm-up: the first writes make the master grow volumes
      await run(20, 4, (i) =>
        s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `warm/${i}`, Body: body })).then(() => {}),
      );
      const put = await run(N, C, (i) =>
        s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `o/${i}`, Body: body })).then(() => {}),
      );
      const get = await run(N, C, async (i) => {
        const r = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `o/${i}` }));
        const got = await r.Body!.transformToByteArray();
        if (got.length !== SIZE) throw new Error(`object ${i}: ${got.length} bytes`);
      });

      const n1 = await a.services.seaweedfs.node('n1');
      const row = await a.services.seaweedfs.row('bench');
      const plan = (await a.services.seaweedfs.plan(row)).plan;
      const readKey = a.services.seaweedfs.secrets(row).jwt.volumeRead;
      const leader = (await a.services.seaweedfs.pollOnce('bench')).leader as string;
      const master =
        plan.masterAddresses[
          plan.services.filter((x) => x.role === 'master').findIndex((m) => m.node === leader)
        ] ?? plan.masterAddresses[0];
      const direct = { collection: 'direct', replication: '001' };
      await run(20, 4, () => directWrite(master, body, direct).then(() => {}));
      const stored: Stored[] = [];
      const dput = await run(N, C, async (i) => {
        stored[i] = await directWrite(master, body, direct);
      });
      const dget = await run(N, C, async (i) => {
        const got = await directRead(master, stored[i].fid, readKey);
        if (got.length !== SIZE) throw new Error(`file ${stored[i].fid}: ${got.length} bytes`);
      });
      // what weed benchmark's reads meet: a GET without a read JWT
      const bare = await bareReadStatus(stored[0].url, stored[0].fid);
      const { result } = await a.services.seaweedfs.ops.run(
        n1,
        'weed-bench',
        {
          MASTERS: plan.masterAddresses.join(','),
          N: String(N),
          SIZE: String(SIZE),
          C: String(C),
          REPLICATION: '001',
        },
        600_000,
      );
      const peer = parseWeedBenchmark(result.stdout);
      const rps = (p: Phase) => p.ops / p.seconds;
      // weed benchmark reads volume servers without read tokens; a cluster with read JWTs refuses them
      const readOk = peer.read.failed === 0 && peer.read.rps > 0;
      const mbps = (p: Phase) => (p.ops * SIZE) / p.seconds / 2 ** 20;
      const f = (x: number, d = 1) => x.toFixed(d);
      console.log(
        `\nSeaweedFS ${cluster.version} on 3 lab nodes (replication 001), ${N} objects of ${SIZE} B, ${C} concurrent clients\n`,
      );
      console.log(
        `provisioning (3 masters, 3 volume servers, filer, S3 gateway), one grim call: ${f(provisionS)} s\n`,
      );
      console.log(
        '| path | PUT req/s | PUT MiB/s | PUT p50 / p99 ms | GET req/s | GET MiB/s | GET p50 / p99 ms |',
      );
      console.log('|---|---|---|---|---|---|---|');
      console.log(
        `| S3 via the grim-provisioned gateway (AWS SDK, SigV4, from the host) | ${f(rps(put))} | ${f(mbps(put))} | ${f(pct(put.latenciesMs, 50))} / ${f(pct(put.latenciesMs, 99))} | ${f(rps(get))} | ${f(mbps(get))} | ${f(pct(get.latenciesMs, 50))} / ${f(pct(get.latenciesMs, 99))} |`,
      );
      console.log(
        `| weed benchmark (master + volume servers directly, on n1) | ${f(peer.write.rps)} | ${f((peer.write.rps * SIZE) / 2 ** 20)} | ${f(peer.write.p50)} / ${f(peer.write.p99)} | ${f(peer.read.rps)} | ${f((peer.read.rps * SIZE) / 2 ** 20)} | ${f(peer.read.p50)} / ${f(peer.read.p99)} |`,
      );
      console.log(
        `| SeaweedFS direct (master assign/lookup + volume server, read JWT; same host, client and concurrency as S3) | ${f(rps(dput))} | ${f(mbps(dput))} | ${f(pct(dput.latenciesMs, 50))} / ${f(pct(dput.latenciesMs, 99))} | ${f(rps(dget))} | ${f(mbps(dget))} | ${f(pct(dget.latenciesMs, 50))} / ${f(pct(dget.latenciesMs, 99))} |`,
      );
      console.log(
        `| ratio S3 / direct (what the S3 gateway + filer cost) | ${f(rps(put) / rps(dput), 2)}× | | ${f(pct(put.latenciesMs, 50) / pct(dput.latenciesMs, 50), 2)}× p50 | ${f(rps(get) / rps(dget), 2)}× | | ${f(pct(get.latenciesMs, 50) / pct(dget.latenciesMs, 50), 2)}× p50 |`,
      );
      console.log(
        `| ratio direct / weed benchmark (this host's client vs weed on n1) | ${f(rps(dput) / peer.write.rps, 2)}× | | ${f(pct(dput.latenciesMs, 50) / peer.write.p50, 2)}× p50 | ${readOk ? `${f(rps(dget) / peer.read.rps, 2)}×` : 'n/a'} | | |`,
      );
      console.log(
        `| ratio S3 / weed benchmark | ${f(rps(put) / peer.write.rps, 2)}× | | ${f(pct(put.latenciesMs, 50) / peer.write.p50, 2)}× p50 | ${readOk ? `${f(rps(get) / peer.read.rps, 2)}×` : 'n/a'} | | ${readOk ? `${f(pct(get.latenciesMs, 50) / peer.read.p50, 2)}× p50` : `n/a: weed benchmark's ${peer.read.failed} reads failed`} |`,
      );
      console.log(
        `\nA volume-server GET without a read JWT (how weed benchmark reads) answers HTTP ${bare}; with grim's read key it is served.`,
      );
      if (peer.write.failed || peer.read.failed)
        console.log(
          `\nweed benchmark failed requests: ${peer.write.failed} writes, ${peer.read.failed} reads`,
        );
    } finally {
      for (const fn of afters)
        await Promise.resolve(fn()).catch((e) => console.error(`cleanup: ${(e as Error).message}`));
    }
  },
);
