// SeaweedFS domain: names (every problem listed), cluster specs and plans, replication, config files, health
// judged from recorded status shapes, and the /metrics lines mon alerts on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  absolutePathProblems,
  bucketNameProblems,
  filerPathProblems,
  keyNameProblems,
  mountDirProblems,
} from '../../src/domain/seaweedfs/names.ts';
import {
  clusterSpecProblems,
  optionsFile,
  planCluster,
  type ClusterSpec,
  type NodeFacts,
} from '../../src/domain/seaweedfs/cluster.ts';
import { enforcedSizes, quotaProblems, readOnlyBuckets } from '../../src/domain/seaweedfs/quota.ts';
import { copiesOf, explainReplication, replicationProblems } from '../../src/domain/seaweedfs/replication.ts';
import { filerToml, s3Identities, securityToml } from '../../src/domain/seaweedfs/config-files.ts';
import { judgeHealth, masterHttpAddress, underReplicatedVolumes } from '../../src/domain/seaweedfs/health.ts';
import { seaweedMetricLines } from '../../src/domain/seaweedfs/metrics.ts';

test('hostile bucket names are refused with every problem listed', () => {
  const p = bucketNameProblems('../Etc;rm -rf_');
  assert.ok(p.some((m) => m.includes('uppercase')));
  assert.ok(p.some((m) => m.includes('";"') && m.includes('" "') && m.includes('"_"')));
  assert.ok(p.some((m) => m.includes('start with')));
  assert.ok(p.some((m) => m.includes('two dots')));
  assert.deepEqual(bucketNameProblems('photos'), []);
  assert.deepEqual(bucketNameProblems('my.bucket-1'), []);
  assert.ok(bucketNameProblems('192.168.1.1').some((m) => m.includes('IP address')));
  assert.ok(bucketNameProblems('ab').some((m) => m.includes('3 to 63')));
  assert.ok(bucketNameProblems('a'.repeat(64)).some((m) => m.includes('3 to 63')));
  assert.ok(bucketNameProblems('xn--abc').length > 0);
  assert.ok(bucketNameProblems('a-.b').some((m) => m.includes('dash next to a dot')));
});

test('key names, filer paths and mount points: every problem listed', () => {
  assert.equal(keyNameProblems('Bad_Name!').length, 4);
  assert.deepEqual(keyNameProblems('photos-rw'), []);
  assert.ok(keyNameProblems('grim-admin').some((m) => m.includes('reserved')));
  const path = absolutePathProblems('relative/../x//$(id)/');
  for (const want of ['absolute', 'end with /', '"$"', '//', '..'])
    assert.ok(
      path.some((m) => m.includes(want)),
      want,
    );
  assert.ok(filerPathProblems('/etc/passwd').some((m) => m.includes('/buckets or /volumes')));
  assert.ok(filerPathProblems('/buckets/Bad_Bucket').some((m) => m.includes('uppercase')));
  assert.deepEqual(filerPathProblems('/buckets/photos/sub'), []);
  assert.deepEqual(filerPathProblems('/volumes/shared'), []);
  assert.ok(mountDirProblems('/etc/x').some((m) => m.includes('under /etc')));
  assert.ok(mountDirProblems('/var/lib/grim/x').some((m) => m.includes('/var/lib/grim')));
  assert.deepEqual(mountDirProblems('/mnt/photos'), []);
  assert.ok(mountDirProblems('/mnt/-rf').some((m) => m.includes('start with -')));
});

test('replication strings: validated, counted and explained in one sentence', () => {
  assert.deepEqual(replicationProblems('001'), []);
  assert.ok(replicationProblems('0x1').length);
  assert.ok(replicationProblems('003').some((m) => m.includes('0, 1 or 2')));
  assert.equal(copiesOf('000'), 1);
  assert.equal(copiesOf('011'), 3);
  assert.match(explainReplication('001'), /two copies on two servers of the same rack/);
  assert.match(explainReplication('010'), /two racks/);
  assert.match(explainReplication('100'), /two data centers/);
  assert.match(explainReplication('111'), /4 copies/);
});

const nodes: NodeFacts[] = [1, 2, 3, 4].map((i): NodeFacts => ({
  name: `n${i}`,
  environment: 'prod',
  address: `10.0.0.${i}`,
  roles: i < 4 ? ['storage'] : ['compute'],
  labels: i === 3 ? { rack: 'r2', datacenter: 'dc1' } : ({ rack: 'r1' } as Record<string, string>),
}));
const spec: ClusterSpec = {
  environment: 'prod',
  masters: ['n1', 'n2', 'n3'],
  volumes: ['n1', 'n2', 'n3'],
  filers: ['n1'],
  filerStore: 'leveldb2',
  s3: ['n1', 'n2'],
  replication: '010',
  volumeSizeLimitMB: 1024,
  maxVolumes: 0,
  version: '4.48',
};

test('cluster spec: every problem at once, including placements the labels cannot hold', () => {
  assert.deepEqual(clusterSpecProblems(spec, nodes), []);
  const bad = clusterSpecProblems(
    {
      ...spec,
      masters: ['n1', 'n2'],
      volumes: ['n1', 'n1', 'n9'],
      filers: ['n1', 'n4'],
      replication: '100',
      volumeSizeLimitMB: 1,
      maxVolumes: -1,
      volumeQuotaMB: 1.5,
    },
    nodes,
  );
  const text = bad.map((p) => `${p.path}: ${p.message}`).join('\n');
  for (const want of [
    'body/masters: 1 master, or 3 or 5',
    'body/volumes: lists a node twice',
    'body/volumes: node n9 does not exist',
    'body/filers: node n4 does not have the storage role',
    'body/filers: several filers share metadata only on PostgreSQL',
    'body/replication: 100 needs volume servers in 2 data centers',
    'body/volumeSizeLimitMB',
    'body/maxVolumes',
    'body/volumeQuotaMB',
  ])
    assert.ok(text.includes(want), `missing "${want}" in\n${text}`);
  // a quota smaller than one volume leaves the volume server no slot
  assert.deepEqual(
    clusterSpecProblems({ ...spec, volumeSizeLimitMB: 64, volumeQuotaMB: 32 }, nodes).map((p) => p.path),
    ['body/volumeQuotaMB'],
  );
  assert.ok(
    clusterSpecProblems({ ...spec, replication: '002' }, nodes).some((p) =>
      p.message.includes('3 volume servers in one rack'),
    ),
  );
});

test('plan: masters, volumes, filers, S3 in start order; telemetry, Iceberg and Lance off; racks from labels', () => {
  const plan = planCluster(spec, nodes);
  assert.deepEqual(
    plan.services.map((s) => `${s.role}@${s.node}`),
    [
      'master@n1',
      'master@n2',
      'master@n3',
      'volume@n1',
      'volume@n2',
      'volume@n3',
      'filer@n1',
      's3@n1',
      's3@n2',
    ],
  );
  const m = plan.services[0].options;
  assert.equal(m.telemetry, 'false');
  assert.equal(m.peers, '10.0.0.1:9333,10.0.0.2:9333,10.0.0.3:9333');
  assert.equal(m.defaultReplication, '010');
  const v3 = plan.services.find((s) => s.role === 'volume' && s.node === 'n3')!.options;
  assert.equal(v3.rack, 'r2');
  assert.equal(v3.dataCenter, 'dc1');
  const s3 = plan.services.find((s) => s.role === 's3' && s.node === 'n2')!.options;
  assert.equal(s3['port.iceberg'], '0');
  assert.equal(s3['port.lance'], '0');
  assert.equal(s3.filer, '10.0.0.1:8888', 'a gateway without a local filer uses the first filer');
  assert.equal(planCluster({ ...spec, masters: ['n1'] }, nodes).services[0].options.peers, 'none');
  for (const s of plan.services) assert.ok(s.options.metricsPort, `${s.id} exports metrics`);
  assert.throws(() => optionsFile({ ip: '1\nmaster=evil' }), /newline/);
});

test('config files: security.toml per node kind, filer stores, S3 identities limited to their bucket', () => {
  const jwt = { volumeWrite: 'w"k', volumeRead: 'r', filerWrite: 'fw', filerRead: 'fr' };
  const full = securityToml({ jwt });
  for (const section of [
    '[jwt.signing]',
    '[jwt.signing.read]',
    '[jwt.filer_signing]',
    '[jwt.filer_signing.read]',
    '[grpc.master]',
    '[grpc.volume]',
    '[grpc.filer]',
    '[grpc.s3]',
    '[grpc.client]',
  ])
    assert.ok(full.includes(section), section);
  assert.ok(full.includes('key = "w\\"k"'), 'TOML strings are escaped');
  const client = securityToml({ volumeReadKey: 'r' });
  assert.deepEqual(
    [...client.matchAll(/^\[([^\]]+)\]/gm)].map((m) => m[1]),
    ['jwt.signing.read', 'grpc', 'grpc.client'],
  );
  assert.match(filerToml({ kind: 'leveldb2' }), /\[leveldb2\]\nenabled = true/);
  const pg = filerToml({
    kind: 'postgres',
    host: 'db',
    port: 5432,
    database: 'seaweed',
    user: 'u',
    password: 'p"w',
    sslmode: 'require',
    schema: 'seaweedfs_lab',
  });
  assert.match(pg, /\[postgres2\]/);
  assert.match(pg, /^schema = "seaweedfs_lab"$/m);
  // postgres2's upsert as SeaweedFS's scaffold has it: the table name and four placeholders
  assert.match(pg, /INSERT INTO "%\[1\]s" \(dirhash, name, directory, meta\) VALUES \(\$1, \$2, \$3, \$4\)/);
  assert.match(pg, /password = "p\\"w"/);
  const ids = JSON.parse(
    s3Identities({ accessKey: 'A', secretKey: 'S' }, [
      { name: 'rw', accessKey: 'K1', secretKey: 's1', bucket: 'b', actions: ['Read', 'Write'], active: true },
      { name: 'ro', accessKey: 'K2', secretKey: 's2', bucket: 'b', actions: ['Read'], active: true },
      { name: 'old', accessKey: 'K3', secretKey: 's3', bucket: 'b', actions: ['Read'], active: false },
    ]),
  );
  assert.deepEqual(
    ids.identities.map((i: any) => i.name),
    ['grim-admin', 'rw', 'ro'],
  );
  assert.deepEqual(ids.identities[1].actions, ['Read:b', 'List:b', 'Write:b', 'Tagging:b']);
  assert.deepEqual(ids.identities[2].actions, ['Read:b', 'List:b']);
});

const dirStatus = {
  Topology: {
    Max: 30,
    Free: 20,
    DataCenters: [
      { Id: 'dc1', Racks: [{ Id: 'r1', DataNodes: [{ Url: '10.0.0.1:8080' }, { Url: '10.0.0.2:8080' }] }] },
    ],
    Layouts: [
      { replication: '001', collection: '', writables: [1, 2] },
      { replication: '001', collection: 'logs', writables: null },
    ],
  },
};
const vol = (id: number, rp: object) => ({ Id: id, Collection: '', ReplicaPlacement: rp, Size: 10 });

test('health: leader names in both raft formats, down processes, missing heartbeats, no writable volumes, under-replication, full disks', () => {
  assert.equal(masterHttpAddress('10.0.0.1:9333.19333'), '10.0.0.1:9333');
  assert.equal(masterHttpAddress('10.0.0.1:9333'), '10.0.0.1:9333');
  const h = judgeHealth({
    masters: [
      {
        node: 'n1',
        address: '10.0.0.1:9333',
        status: { ok: true, body: { IsLeader: true, Leader: '10.0.0.1:9333.19333' } },
      },
      { node: 'n2', address: '10.0.0.2:9333', status: { ok: true, body: { Leader: '10.0.0.1:9333.19333' } } },
      { node: 'n3', address: '10.0.0.3:9333', status: { ok: false, error: 'connect ECONNREFUSED' } },
    ],
    dir: { ok: true, body: dirStatus },
    vol: {
      ok: true,
      body: {
        Volumes: {
          DataCenters: {
            dc1: {
              r1: {
                '10.0.0.1:8080': [vol(1, { node: 1 }), vol(2, { node: 1 })],
                '10.0.0.2:8080': [vol(1, { node: 1 })],
              },
            },
          },
        },
      },
    },
    volumes: [
      {
        node: 'n1',
        address: '10.0.0.1:8080',
        status: {
          ok: true,
          body: { DiskStatuses: [{ dir: '/v', all: 100, used: 95, free: 5 }], Volumes: [] },
        },
      },
      {
        node: 'n2',
        address: '10.0.0.2:8080',
        status: { ok: true, body: { DiskStatuses: [{ dir: '/v', all: 100, used: 10, free: 90 }] } },
      },
      { node: 'n3', address: '10.0.0.3:8080', status: { ok: true, body: { DiskStatuses: [] } } },
    ],
    filers: [{ node: 'n1', healthy: { ok: true, body: null } }],
    s3: [{ node: 'n2', healthy: { ok: false, error: 'HTTP 503' } }],
  });
  assert.equal(h.leader, 'n1');
  const kinds = h.problems.map((p) => `${p.kind}:${p.subject}`).sort();
  assert.deepEqual(kinds, [
    'disk-nearly-full:n1',
    'master-down:n3',
    'no-writable-volumes:logs',
    's3-down:n2',
    'under-replicated:2',
    'volume-server-missing:n3',
  ]);
  assert.deepEqual(h.underReplicated, [{ volume: 2, collection: '', copies: 1, expected: 2 }]);
  const noLeader = judgeHealth({
    masters: [{ node: 'n1', address: 'a', status: { ok: true, body: {} } }],
    dir: { ok: false, error: 'x' },
    vol: { ok: false, error: 'x' },
    volumes: [],
    filers: [],
    s3: [],
  });
  assert.deepEqual(
    noLeader.problems.map((p) => p.kind),
    ['no-leader'],
  );
  assert.deepEqual(underReplicatedVolumes({ ok: false, error: 'x' }), []);

  const lines = seaweedMetricLines(new Map([['prod', h]]));
  for (const want of [
    'grim_storage_has_leader{environment="prod"} 1',
    'grim_storage_up{environment="prod",role="master",node="n3"} 0',
    'grim_storage_writable_volumes{environment="prod",collection="logs",replication="001"} 0',
    'grim_storage_under_replicated_volumes{environment="prod"} 1',
    'grim_storage_disk_used_ratio{environment="prod",node="n1"} 0.9500',
    'grim_storage_problems{environment="prod",kind="no-leader"} 0',
    '# TYPE grim_storage_up gauge',
  ])
    assert.ok(lines.includes(want), want);
});

test('bucket quotas: read-only buckets read back from filer.conf, problems only for buckets with a quota', () => {
  // fs.configure prints filer.conf as protobuf JSON; s3.bucket.quota.enforce prints the buckets it changed
  const out = `  tiny\tsize:4194432\tquota:1048576\tusage:400.01%
    changing bucket tiny to read only!
{
  "version": 0,
  "locations": [
    {
      "locationPrefix": "/buckets/tiny/",
      "readOnly": true
    },
    {
      "locationPrefix": "/buckets/photos/",
      "replication": "001"
    },
    {
      "locationPrefix": "/buckets/old/",
      "readOnly": true
    },
    {
      "locationPrefix": "/data/deep/path/",
      "readOnly": true
    }
  ]
}`;
  assert.deepEqual(readOnlyBuckets(out), ['old', 'tiny']);
  assert.deepEqual(enforcedSizes(out).get('tiny'), { size: 4194432, quota: 1048576 });
  const problems = quotaProblems(
    readOnlyBuckets(out),
    new Map<string, number | null>([
      ['tiny', 1],
      ['photos', 100],
      ['old', null],
    ]),
  );
  assert.deepEqual(
    problems.map((p) => [p.kind, p.subject]),
    [['bucket-over-quota', 'tiny']],
  );
  assert.match(problems[0].message, /over its quota of 1 MB: SeaweedFS made it read-only/);
});
