/**
 * Buckets, S3 keys and mounts of a storage cluster. Buckets are made with `weed shell` (s3.bucket.create,
 * s3.bucket.quota); keys live in grim's database with their secret sealed, and every change rewrites the S3
 * gateways' identities file (0600) and reloads it with SIGHUP; a key's secret is returned once, on creation.
 * A mount is a supervised `weed mount` of a filer path on a node of the environment.
 */
import { invalid, notFound, conflict, type ErrorDetail } from '../../domain/errors.ts';
import {
  bucketNameProblems,
  filerPathProblems,
  keyNameProblems,
  mountDirProblems,
  mountNameProblems,
} from '../../domain/seaweedfs/names.ts';
import { mountOptions, optionsFile, PORTS } from '../../domain/seaweedfs/cluster.ts';
import { securityToml } from '../../domain/seaweedfs/config-files.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import { KEY_CONTEXT, newAccessKey, newSecretKey, until, type SeaweedService } from './seaweed-service.ts';
import { hp } from './health-poll.ts';

const ACTIONS = ['Read', 'Write'] as const;
type Action = (typeof ACTIONS)[number];

type Ready = Awaited<ReturnType<SeaweedAccess['ready']>>;

const problemsAt = (path: string, ms: string[]): ErrorDetail[] => ms.map((message) => ({ path, message }));

export class SeaweedAccess {
  readonly #s: SeaweedService;
  constructor(s: SeaweedService) {
    this.#s = s;
  }

  async ready(environment: string) {
    const row = await this.#s.row(environment);
    if (row.state !== 'ready')
      throw conflict(
        `the storage cluster of ${environment} is ${row.state}${row.state_reason ? `: ${row.state_reason}` : ''}`,
      );
    const { plan, rows, spec } = await this.#s.plan(row);
    const masterNode = rows.get(spec.masters[0])!;
    const masters = plan.masterAddresses;
    return { row, plan, rows, spec, masterNode, masters };
  }

  async createBucket(environment: string, body: { name: string; quotaMB?: number }) {
    const problems = problemsAt('body/name', bucketNameProblems(body.name));
    if (
      body.quotaMB !== undefined &&
      (!Number.isInteger(body.quotaMB) || body.quotaMB < 1 || body.quotaMB > 1e9)
    )
      problems.push({ path: 'body/quotaMB', message: 'must be an integer from 1 to 1000000000' });
    if (problems.length) throw invalid('invalid bucket', problems);
    const c = await this.ready(environment);
    if (await seaweedRepo.bucket(this.#s.d.db, environment, body.name))
      throw conflict(`bucket ${body.name} exists`);
    const cmds = [`s3.bucket.create -name ${body.name}`];
    if (body.quotaMB) cmds.push(`s3.bucket.quota -name=${body.name} -op=set -sizeMB=${body.quotaMB}`);
    await this.#s.ops.shell(c.masterNode, c.masters, cmds);
    await seaweedRepo.insertBucket(this.#s.d.db, {
      environment,
      name: body.name,
      quota_mb: body.quotaMB ?? null,
      created_at: Date.now(),
    });
    return { name: body.name, quotaMB: body.quotaMB ?? null };
  }

  /** Buckets with their size as SeaweedFS reports it (s3.bucket.list). */
  async listBuckets(environment: string) {
    const rows = await seaweedRepo.buckets(this.#s.d.db, environment);
    let sizes = new Map<string, number>();
    try {
      const c = await this.ready(environment);
      const out = await this.#s.ops.shell(c.masterNode, c.masters, ['s3.bucket.list'], 60);
      sizes = new Map([...out.matchAll(/^\s*(\S+)\s+size:(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    } catch {
      // sizes are a bonus: the list comes from grim
    }
    return rows.map((b) => ({
      name: b.name,
      quotaMB: b.quota_mb,
      sizeBytes: sizes.get(b.name) ?? null,
      createdAt: b.created_at,
    }));
  }

  async deleteBucket(environment: string, name: string) {
    const problems = problemsAt('params/bucket', bucketNameProblems(name));
    if (problems.length) throw invalid('invalid bucket', problems);
    const c = await this.ready(environment);
    if (!(await seaweedRepo.bucket(this.#s.d.db, environment, name))) throw notFound(`bucket ${name}`);
    const keys = (await seaweedRepo.keys(this.#s.d.db, environment)).filter(
      (k) => k.bucket === name && k.status === 'active',
    );
    if (keys.length)
      throw conflict(
        `bucket ${name} still has keys: ${keys.map((k) => k.name).join(', ')} (retire them first)`,
      );
    await this.#s.ops.shell(c.masterNode, c.masters, [`s3.bucket.delete -name ${name}`]);
    await seaweedRepo.deleteBucket(this.#s.d.db, environment, name);
    return { ok: true };
  }

  /** A key limited to one bucket. The secret is in the answer once and never again. */
  async createKey(environment: string, body: { name: string; bucket: string; actions: string[] }) {
    const problems = problemsAt('body/name', keyNameProblems(body.name));
    problems.push(...problemsAt('body/bucket', bucketNameProblems(body.bucket)));
    const actions = body.actions ?? [];
    if (!actions.length) problems.push({ path: 'body/actions', message: 'give Read, Write or both' });
    for (const a of actions)
      if (!ACTIONS.includes(a as Action))
        problems.push({
          path: 'body/actions',
          message: `unknown action ${JSON.stringify(a)} (Read or Write)`,
        });
    if (new Set(actions).size !== actions.length)
      problems.push({ path: 'body/actions', message: 'lists an action twice' });
    if (problems.length) throw invalid('invalid key', problems);
    const c = await this.ready(environment);
    if (!(await seaweedRepo.bucket(this.#s.d.db, environment, body.bucket)))
      throw invalid('invalid key', [
        { path: 'body/bucket', message: `bucket ${body.bucket} does not exist` },
      ]);
    if ((await seaweedRepo.keys(this.#s.d.db, environment)).some((k) => k.name === body.name))
      throw conflict(`key ${body.name} exists`);
    const accessKey = newAccessKey();
    const secretKey = newSecretKey();
    await seaweedRepo.insertKey(this.#s.d.db, {
      environment,
      access_key: accessKey,
      name: body.name,
      bucket: body.bucket,
      actions: JSON.stringify([...actions].sort()),
      secret: this.#s.d.box.seal(secretKey, KEY_CONTEXT(environment, accessKey)),
      status: 'active',
      created_at: Date.now(),
      retired_at: null,
    });
    await this.pushIdentities(environment, c);
    return {
      name: body.name,
      bucket: body.bucket,
      actions: [...actions].sort(),
      accessKey,
      secretKey,
      endpoints: c.plan.services
        .filter((s) => s.role === 's3')
        .map((s) => `http://${hp(s.address, PORTS.s3.http)}`),
    };
  }

  /** Retires a key: the gateways stop accepting it at once (the row stays, for the record). */
  async retireKey(environment: string, accessKey: string) {
    if (!/^[A-Z0-9]{16,32}$/.test(accessKey))
      throw invalid('invalid key', [{ path: 'params/accessKey', message: 'not an access key id' }]);
    const c = await this.ready(environment);
    const key = (await seaweedRepo.keys(this.#s.d.db, environment)).find((k) => k.access_key === accessKey);
    if (!key) throw notFound(`key ${accessKey}`);
    await seaweedRepo.retireKey(this.#s.d.db, environment, accessKey);
    await this.pushIdentities(environment, c);
    return { ok: true };
  }

  /** Rewrites s3.json on every gateway and makes them reload it (SIGHUP). */
  async pushIdentities(environment: string, c?: Ready) {
    const ctx = c ?? (await this.ready(environment));
    const json = await this.#s.s3Json(environment, this.#s.secrets(ctx.row));
    const gateways = ctx.plan.services.filter((s) => s.role === 's3');
    await Promise.all(
      gateways.map(async (g) => {
        const node = ctx.rows.get(g.node)!;
        await this.#s.ops.configure(node, { S3_JSON: json });
        await this.#s.ops.signal(node, ['weed-s3'], 'HUP');
      }),
    );
  }

  /** A supervised `weed mount` of a filer path on a node of the environment; waits until it is mounted. */
  async createMount(environment: string, body: { name: string; node: string; path: string; dir: string }) {
    const problems = [
      ...problemsAt('body/name', mountNameProblems(body.name)),
      ...problemsAt('body/path', filerPathProblems(body.path)),
      ...problemsAt('body/dir', mountDirProblems(body.dir)),
    ];
    if (problems.length) throw invalid('invalid mount', problems);
    const c = await this.ready(environment);
    const node = await this.#s.node(body.node).catch(() => undefined);
    if (!node || node.environment !== environment)
      throw invalid('invalid mount', [
        { path: 'body/node', message: `node ${body.node} is not in environment ${environment}` },
      ]);
    if (await seaweedRepo.mount(this.#s.d.db, environment, body.name))
      throw conflict(`mount ${body.name} exists`);
    const mounts = await seaweedRepo.mounts(this.#s.d.db, environment);
    if (mounts.some((m) => m.node === body.node && m.dir === body.dir))
      throw conflict(`${body.dir} on ${body.node} is already a mount`);
    if (
      body.path.startsWith('/buckets/') &&
      !(await seaweedRepo.bucket(this.#s.d.db, environment, body.path.split('/')[2]))
    )
      throw invalid('invalid mount', [
        { path: 'body/path', message: `bucket ${body.path.split('/')[2]} does not exist` },
      ]);
    // the filer path must exist before the mount shows it
    await this.#s.ops.shell(c.masterNode, c.masters, [`fs.mkdir ${body.path}`]).catch(() => undefined);
    const release = await this.#s.releases.verifiedBinary(c.spec.version);
    await this.#s.ops.install(node, release);
    const filer = c.plan.services.find((s) => s.role === 'filer')!;
    const files: Record<string, string> = {
      MOUNT_NAME: body.name,
      OPTIONS_MOUNT: optionsFile(
        mountOptions({
          filer: hp(filer.address, PORTS.filer.http),
          filerPath: body.path,
          dir: body.dir,
          name: body.name,
        }),
      ),
    };
    if (!c.plan.nodes.includes(node.name)) {
      // a node outside the cluster gets the CA, a client certificate and the read key, no write or filer keys
      const cert = await this.#s.ca(environment).nodeCert(node.name, node.address);
      const readKey = this.#s.secrets(c.row).jwt.volumeRead;
      Object.assign(files, {
        CA_CRT: cert.ca,
        NODE_CRT: cert.cert,
        NODE_KEY: cert.key,
        SECURITY_TOML: securityToml({ volumeReadKey: readKey }),
      });
    }
    await this.#s.ops.configure(node, files);
    const id = `weed-mount-${body.name}`;
    await this.#s.ops.installService(node, id, 15);
    await seaweedRepo.insertMount(this.#s.d.db, {
      environment,
      name: body.name,
      node: body.node,
      filer_path: body.path,
      dir: body.dir,
      created_at: Date.now(),
    });
    await this.#s.ops.start(node, id);
    await until(
      `${body.dir} mounted on ${body.node}`,
      async () => (await this.mountState(node, body.dir)).mounted,
      30_000,
      300,
    );
    return { name: body.name, node: body.node, path: body.path, dir: body.dir };
  }

  async mountState(node: Parameters<SeaweedService['ops']['run']>[0], dir: string) {
    return (await this.#s.ops.run(node, 'weed-mount-check', { DIR: dir })).json as { mounted: boolean };
  }

  async deleteMount(environment: string, name: string) {
    const m = await seaweedRepo.mount(this.#s.d.db, environment, name);
    if (!m) throw notFound(`mount ${name}`);
    const node = await this.#s.node(m.node);
    await this.#s.ops.destroy(node, `weed-mount-${name}`);
    await seaweedRepo.deleteMount(this.#s.d.db, environment, name);
    return { ok: true };
  }
}
