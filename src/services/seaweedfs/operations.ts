/**
 * Operations on a running cluster: repair (volume.fix.replication) and balancing (volume.balance) shown as a
 * preview, then run with -apply under the shell lock; JWT key rotation across every node with one SIGHUP
 * round; rolling upgrade to another recorded release (masters one at a time keeping quorum, then volume
 * servers one at a time waiting for healthz and heartbeats, then filers and S3 gateways; it stops at the
 * first failure); rollback is the same upgrade back to the previous version.
 */
import { conflict, invalid } from '../../domain/errors.ts';
import { PORTS, type PlannedService, type Role } from '../../domain/seaweedfs/cluster.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import { getJson, getOk, hp } from './health-poll.ts';
import { S3Client } from '../../integrations/s3/client.ts';
import { randomKey, until, type SeaweedService } from './seaweed-service.ts';
import { versionProblems } from './releases.ts';
import { securityToml } from '../../domain/seaweedfs/config-files.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';

export class SeaweedOperations {
  readonly #s: SeaweedService;
  constructor(s: SeaweedService) {
    this.#s = s;
  }

  async #ctx(environment: string) {
    const row = await this.#s.row(environment);
    if (row.state !== 'ready') throw conflict(`the storage cluster of ${environment} is ${row.state}`);
    const { plan, rows, spec } = await this.#s.plan(row);
    return { row, plan, rows, spec, master: rows.get(spec.masters[0])! };
  }

  /**
   * `volume.fix.replication` (and with balance, `volume.balance`): without apply the dry run's output (what
   * would be done); with apply the same commands with -apply between lock and unlock.
   */
  async repair(environment: string, opts: { apply: boolean; balance?: boolean }, user: string) {
    const c = await this.#ctx(environment);
    const cmds = ['volume.fix.replication' + (opts.apply ? ' -apply' : '')];
    if (opts.balance) cmds.push('volume.balance' + (opts.apply ? ' -apply' : ''));
    const output = await this.#s.ops.shell(
      c.master,
      c.plan.masterAddresses,
      ['lock', ...cmds, 'unlock'],
      600,
    );
    await this.#s.d.audit.record({
      actor: user,
      actorKind: 'user',
      action: opts.apply ? 'storage.repair' : 'storage.repair-preview',
      target: environment,
      outcome: 'success',
      details: { commands: cmds },
    });
    const health = await this.#s.pollOnce(environment).catch(() => null);
    return {
      applied: opts.apply,
      commands: cmds,
      output,
      underReplicated: health?.underReplicated.length ?? null,
    };
  }

  /**
   * New JWT signing keys for volume writes/reads and the filer, written to every node's security.toml, then
   * SIGHUP to every master, volume server and filer at once (tokens live 10 s: the round is short).
   */
  async rotateKeys(environment: string, user: string) {
    const c = await this.#ctx(environment);
    const secrets = this.#s.secrets(c.row);
    secrets.jwt = {
      volumeWrite: randomKey(),
      volumeRead: randomKey(),
      filerWrite: randomKey(),
      filerRead: randomKey(),
    };
    await Promise.all(
      c.plan.nodes.map((n) =>
        this.#s.configureNode(environment, c.rows.get(n)!, c.plan, c.spec, secrets, 'security'),
      ),
    );
    await seaweedRepo.updateCluster(this.#s.d.db, environment, {
      secrets: this.#s.sealSecrets(environment, secrets),
    });
    const started = performance.now();
    const results = await Promise.all(
      c.plan.nodes.map((n) => {
        const ids = c.plan.services.filter((s) => s.node === n && s.role !== 's3').map((s) => s.id);
        return ids.length ? this.#s.ops.signal(c.rows.get(n)!, ids, 'HUP') : { signalled: 0 };
      }),
    );
    const signalled = results.reduce((a, r) => a + r.signalled, 0);
    const ms = Math.round(performance.now() - started);
    // S3 gateways sign filer requests with the filer key but reload only s3.json on SIGHUP, and a mount signs
    // its volume reads: both are restarted, gateways one at a time so one of them always serves.
    for (const g of c.plan.services.filter((x) => x.role === 's3'))
      await this.restart(c.rows.get(g.node)!, g, c.plan.services, secrets.admin);
    const mounts = await seaweedRepo.mounts(this.#s.d.db, environment);
    for (const m of mounts) {
      const node = await this.#s.node(m.node);
      if (!c.plan.nodes.includes(m.node))
        await this.#s.ops.configure(node, {
          SECURITY_TOML: securityToml({ volumeReadKey: secrets.jwt.volumeRead }),
        });
      const before = (await this.#s.ops.inspect(node, `weed-mount-${m.name}`)).pid;
      await this.#s.ops.signal(node, [`weed-mount-${m.name}`], 'TERM');
      await until(
        `mount ${m.name} restarted`,
        async () => {
          const now = await this.#s.ops.inspect(node, `weed-mount-${m.name}`);
          return now.pid !== null && now.pid !== before;
        },
        60_000,
        300,
      );
      await until(
        `mount ${m.name} mounted`,
        async () =>
          ((await this.#s.ops.run(node, 'weed-mount-check', { DIR: m.dir })).json as { mounted: boolean })
            .mounted,
        30_000,
        300,
      );
    }
    await this.#s.d.audit.record({
      actor: user,
      actorKind: 'user',
      action: 'storage.rotate-keys',
      target: environment,
      outcome: 'success',
      details: { signalled, ms },
    });
    return { signalled, nodes: c.plan.nodes.length, ms };
  }

  /** Starts a rolling upgrade in the background; the cluster's state reason shows its progress. */
  async upgrade(environment: string, version: string, user: string, includeGateways = false) {
    const problems = versionProblems(version).map((message) => ({ path: 'body/version', message }));
    if (problems.length) throw invalid('invalid upgrade', problems);
    const c = await this.#ctx(environment);
    if (!(await this.#s.releases.get(version)))
      throw invalid('invalid upgrade', [
        { path: 'body/version', message: `release ${version} is not recorded` },
      ]);
    if (c.row.version === version) throw conflict(`the cluster already runs ${version}`);
    const from = c.row.version;
    await seaweedRepo.updateCluster(this.#s.d.db, environment, {
      state: 'upgrading',
      state_reason: `upgrading ${from} -> ${version}`,
    });
    this.#s.runInBackground(environment, () => this.#roll(environment, from, version, user, includeGateways));
    return { from, to: version };
  }

  async #roll(environment: string, from: string, to: string, user: string, includeGateways: boolean) {
    const steps: string[] = [];
    try {
      const row = await this.#s.row(environment);
      const { plan, rows } = await this.#s.plan(row);
      const release = await this.#s.releases.verifiedBinary(to);
      // the binary first, everywhere, without switching: a failed push changes nothing
      await Promise.all(
        plan.nodes.map((n) => this.#s.ops.install(rows.get(n)!, release, { switchTo: false })),
      );
      const switched = new Set<string>();
      const restart = async (s: PlannedService) => {
        const node = rows.get(s.node)!;
        if (!switched.has(s.node)) {
          await this.#s.ops.install(node, release);
          switched.add(s.node);
        }
        await seaweedRepo.updateCluster(this.#s.d.db, environment, {
          state_reason: `upgrading ${from} -> ${to}: restarting ${s.id} on ${s.node}`,
        });
        await this.restart(node, s, plan.services, this.#s.secrets(row).admin);
        steps.push(`${s.id}@${s.node}`);
      };
      // followers first, the leader last: one election at most
      const masters = plan.services.filter((s) => s.role === 'master');
      const leader = await this.#leader(masters);
      for (const m of [
        ...masters.filter((m) => m.node !== leader),
        ...masters.filter((m) => m.node === leader),
      ])
        await restart(m);
      for (const s of plan.services.filter((x) => x.role === 'volume')) await restart(s);
      // filers and gateways one at a time where there are several (one keeps serving); a single one
      // pauses S3 while it restarts, so only on request
      const pending: string[] = [];
      for (const role of ['filer', 's3'] as Role[]) {
        const of = plan.services.filter((x) => x.role === role);
        for (const s of of)
          if (of.length > 1 || includeGateways) await restart(s);
          else pending.push(`${s.id} on ${s.node}`);
      }
      await seaweedRepo.updateCluster(this.#s.d.db, environment, {
        state: 'ready',
        state_reason: pending.length
          ? `${pending.join(', ')} still on ${from}: the only one of its kind, restarted only with includeGateways (S3 pauses meanwhile)`
          : '',
        version: to,
        spec: JSON.stringify({ ...JSON.parse(row.spec), version: to }),
      });
      await this.#s.d.audit.record({
        actor: user,
        actorKind: 'user',
        action: 'storage.upgrade',
        target: environment,
        outcome: 'success',
        details: { from, to, steps, pending },
      });
    } catch (err) {
      const reason =
        `upgrade ${from} -> ${to} stopped after ${steps.length} step(s): ${(err as Error).message}`.slice(
          0,
          2000,
        );
      await seaweedRepo.updateCluster(this.#s.d.db, environment, { state: 'ready', state_reason: reason });
      await this.#s.d.audit.record({
        actor: user,
        actorKind: 'user',
        action: 'storage.upgrade',
        target: environment,
        outcome: 'failure',
        details: { from, to, steps, error: reason },
      });
    }
  }

  /** Restarts one service (TERM: its supervisor starts it again) and waits until it is back and healthy. */
  async restart(
    node: NodeRow,
    s: PlannedService,
    all: PlannedService[],
    admin?: { accessKey: string; secretKey: string },
  ) {
    const before = (await this.#s.ops.inspect(node, s.id)).pid;
    await this.#s.ops.signal(node, [s.id], 'TERM');
    // the supervisor starts it again (a volume server first waits its preStopSeconds)
    await until(
      `${s.id} on ${s.node} restarted`,
      async () => {
        const now = await this.#s.ops.inspect(node, s.id);
        return now.pid !== null && now.pid !== before;
      },
      60_000,
      500,
    );
    await this.#waitBack(s, all, admin);
  }

  async #leader(masters: PlannedService[]) {
    for (const m of masters) {
      const st = await getJson<any>(`http://${hp(m.address, PORTS.master.http)}/cluster/status`);
      if (st.ok && st.body.IsLeader) return m.node;
    }
    return null;
  }

  /** A restarted service is back: it answers with the new version and (masters) a leader is known, (volumes) it heartbeats. */
  async #waitBack(
    s: PlannedService,
    all: PlannedService[],
    admin?: { accessKey: string; secretKey: string },
  ) {
    const ms = 90_000;
    if (s.role === 'master') {
      await until(
        `master on ${s.node} back with a leader`,
        async () => {
          const st = await getJson<any>(`http://${hp(s.address, PORTS.master.http)}/cluster/status`);
          return st.ok && !!st.body.Leader;
        },
        ms,
      );
    } else if (s.role === 'volume') {
      await until(
        `volume server on ${s.node} healthy`,
        async () => (await getOk(`http://${hp(s.address, PORTS.volume.http)}/healthz`)).ok,
        ms,
      );
      const masters = all.filter((m) => m.role === 'master');
      await until(
        `volume server on ${s.node} heartbeating`,
        async () => {
          for (const m of masters) {
            const d = await getJson<any>(`http://${hp(m.address, PORTS.master.http)}/dir/status`);
            if (!d.ok) continue;
            return JSON.stringify(d.body).includes(`"${hp(s.address, PORTS.volume.http)}"`);
          }
          return false;
        },
        ms,
      );
    } else {
      const port = s.role === 'filer' ? PORTS.filer.http : PORTS.s3.http;
      await until(
        `${s.role} on ${s.node} healthy`,
        async () => (await getOk(`http://${hp(s.address, port)}/healthz`)).ok,
        ms,
      );
      // healthz answers before the gateway serves: a signed ListBuckets needs its identities and its filer
      if (s.role === 's3' && admin) {
        const client = new S3Client({
          endpoint: `http://${hp(s.address, PORTS.s3.http)}`,
          region: 'us-east-1',
          accessKeyId: admin.accessKey,
          secretAccessKey: admin.secretKey,
        });
        await until(
          `S3 gateway on ${s.node} serving`,
          async () =>
            (await client.listBuckets().then(
              () => true,
              () => false,
            )) || undefined,
          ms,
        );
      }
    }
  }
}
