/**
 * `grim ssh rotate`: a new grim key pair on every node. Per node: authorize the new key (over the pool, which
 * logs in with the new key or, on nodes not rotated yet, the old one), then open a connection with ONLY the
 * new key and, through it, remove the old key (remove-key.sh refuses unless the new key is authorized), then
 * drop the pooled connection. From the start the new key is grim's identity (new nodes get it); the old one
 * is kept as a fallback login until every node is done. Nodes unreachable at the time keep the old key; the
 * job stays running and lists them, and the `loop:ssh-rotate` loop finishes them when they come back.
 */
import type { Db } from '../store/db.ts';
import { createSetting, deleteSetting, getSetting, putSetting } from '../store/settings-repo.ts';
import { getNodeRow } from '../store/nodes-repo.ts';
import {
  generateStoredKeyPair,
  runScript,
  runScriptOnce,
  unsealPrivateKey,
  type SshPool,
  type StoredKeyPair,
} from '../ssh/index.ts';
import { type SecretBox } from '../secrets/secret-box.ts';
import type { AuditLog } from './audit.ts';
import type { JobStore } from './jobs.ts';
import { targetOf } from './nodes.ts';
import { conflict } from '../domain/errors.ts';

export interface RotationState {
  jobId: string;
  old: StoredKeyPair;
  next: StoredKeyPair;
  startedAt: number;
  by: string;
}

/** The identity object the server hands out (node add installs `publicKey`); rotation updates it in place. */
export interface LiveIdentity {
  publicKey: string;
  fingerprint: string;
  privateKey: string;
}

const blobOf = (line: string) => line.split(' ')[1];

export class SshRotation {
  private readonly d: {
    db: Db;
    pool: SshPool;
    jobs: JobStore;
    box: SecretBox;
    audit: AuditLog;
    identity: LiveIdentity;
    liveInstances: () => Promise<Set<string>>;
  };
  private keysSeen = '';
  private passing: Promise<{ done: boolean; waiting: string[] } | null> | null = null;

  constructor(d: SshRotation['d']) {
    this.d = d;
  }

  state(): Promise<RotationState | undefined> {
    return getSetting<RotationState>(this.d.db, 'ssh_rotation');
  }

  /**
   * Start a rotation over every registered node (or return the one under way). The new key becomes grim's
   * identity at once; the old one stays as a fallback login until the last node is done.
   */
  async start(by: string, db: Db = this.d.db): Promise<{ jobId: string; resumed: boolean }> {
    const running = await this.state();
    if (running) return { jobId: running.jobId, resumed: true };
    const old = await getSetting<StoredKeyPair>(db, 'ssh_identity');
    if (!old) throw conflict('grim has no SSH identity yet');
    const next = generateStoredKeyPair(this.d.box);
    const nodes = (await db.all<{ name: string }>('SELECT name FROM nodes ORDER BY name')).map((r) => r.name);
    const jobId = await this.d.jobs.create(
      'ssh.rotate',
      { from: old.fingerprint, to: next.fingerprint },
      by,
      nodes,
    );
    const created = await db.transaction(async (tx) => {
      if (!(await createSetting(tx, 'ssh_rotation', { jobId, old, next, startedAt: Date.now(), by })))
        return false;
      await putSetting(tx, 'ssh_identity', next);
      return true;
    });
    if (!created) {
      await this.d.jobs.finish(jobId, 'cancelled', 'another rotation started at the same time');
      const other = await this.state();
      return { jobId: other?.jobId ?? jobId, resumed: true };
    }
    await this.d.audit.record({
      actor: by,
      actorKind: 'user',
      action: 'ssh.rotate.started',
      target: next.fingerprint,
      outcome: 'success',
      details: { from: old.fingerprint, nodes: nodes.length, job: jobId },
    });
    this.d.jobs.output(
      jobId,
      'rotate',
      'stdout',
      `rotating ${old.fingerprint} -> ${next.fingerprint} on ${nodes.length} node(s)\n`,
    );
    await this.applyKeys();
    return { jobId, resumed: false };
  }

  /**
   * Make this instance's pool and identity follow the database: the current key first, the old one as a
   * fallback while a rotation is under way. Cheap when nothing changed; every instance runs it periodically.
   */
  async applyKeys(): Promise<void> {
    const current = await getSetting<StoredKeyPair>(this.d.db, 'ssh_identity');
    const rot = await this.state();
    if (!current) return;
    const seen = `${current.fingerprint}|${rot?.old.fingerprint ?? ''}`;
    if (seen === this.keysSeen) return;
    const priv = unsealPrivateKey(this.d.box, current);
    this.d.pool.setKeys(priv, rot ? [unsealPrivateKey(this.d.box, rot.old)] : []);
    Object.assign(this.d.identity, {
      publicKey: current.publicKey,
      fingerprint: current.fingerprint,
      privateKey: priv,
    });
    this.keysSeen = seen;
  }

  /**
   * One pass over the nodes not rotated yet. Returns the nodes still waiting. When none is left the job
   * succeeds and the old key is forgotten. Does nothing while another live instance owns the job.
   */
  pass(db: Db = this.d.db): Promise<{ done: boolean; waiting: string[] } | null> {
    this.passing ??= this.passOnce(db).finally(() => (this.passing = null));
    return this.passing;
  }

  private async passOnce(db: Db): Promise<{ done: boolean; waiting: string[] } | null> {
    const rot = await this.state();
    if (!rot) return null;
    if (!(await this.d.jobs.adopt(rot.jobId, await this.d.liveInstances()))) return null;
    await this.applyKeys();
    const job = await this.d.jobs.get(rot.jobId);
    const todo = job.tasks.filter((t) => t.status !== 'succeeded' && t.status !== 'skipped');
    const newPriv = unsealPrivateKey(this.d.box, rot.next);
    const waiting: string[] = [];
    await Promise.all(
      todo.map(async (t) => {
        const row = await getNodeRow(db, t.node);
        if (!row) {
          await this.d.jobs.taskFinished(rot.jobId, t.node, { status: 'skipped', error: 'node removed' });
          return;
        }
        await this.d.jobs.taskStarted(rot.jobId, t.node);
        const started = Date.now();
        try {
          const target = targetOf(row);
          await runScript(
            this.d.pool,
            target,
            'install-key',
            { GRIM_PUBLIC_KEY: rot.next.publicKey },
            { timeoutMs: 20_000 },
          );
          const removed = (await runScriptOnce(
            target,
            { privateKey: newPriv },
            'remove-key',
            { GRIM_REMOVE_BLOB: blobOf(rot.old.publicKey), GRIM_KEEP_BLOB: blobOf(rot.next.publicKey) },
            { connectTimeoutMs: 10_000, timeoutMs: 20_000 },
          )) as { removed: boolean };
          await this.d.pool.closeNode(row.name);
          this.d.jobs.output(
            rot.jobId,
            t.node,
            'stdout',
            `new key logs in; old key ${removed.removed ? 'removed' : 'was already gone'}\n`,
          );
          await this.d.jobs.taskFinished(rot.jobId, t.node, {
            status: 'succeeded',
            durationMs: Date.now() - started,
            result: removed,
          });
        } catch (err) {
          waiting.push(t.node);
          await this.d.jobs.taskFinished(rot.jobId, t.node, {
            status: 'waiting',
            durationMs: Date.now() - started,
            error: `${(err as Error).message}; keeps the old key until it is reachable again`,
          });
        }
      }),
    );
    if (waiting.length) {
      this.d.jobs.output(
        rot.jobId,
        'rotate',
        'stdout',
        `waiting for ${waiting.sort().join(', ')}; retried while this job runs\n`,
      );
      return { done: false, waiting };
    }
    await db.transaction(async (tx) => {
      await deleteSetting(tx, 'ssh_rotation');
    });
    await this.applyKeys();
    await this.d.jobs.finish(
      rot.jobId,
      'succeeded',
      `every node uses ${rot.next.fingerprint}; ${rot.old.fingerprint} is removed`,
    );
    await this.d.audit.record({
      actor: rot.by,
      actorKind: 'user',
      action: 'ssh.rotate.completed',
      target: rot.next.fingerprint,
      outcome: 'success',
      details: { from: rot.old.fingerprint, job: rot.jobId },
    });
    return { done: true, waiting: [] };
  }
}
