import type { Db } from '../store/db.ts';
import { DomainError, conflict, invalid, notFound, type ErrorDetail } from '../domain/errors.ts';
import {
  allocatable,
  labelProblems,
  matchesSelector,
  parseSelector,
  stateAfterProbe,
  type NodeState,
  type ProbeOutcome,
  type NodeRole,
} from '../domain/nodes.ts';
import { parseBytes, parseCpu } from '../domain/units.ts';
import { getNodeRow, listNodeRows, nodeGroups, setNodeState, type NodeRow } from '../store/nodes-repo.ts';
import {
  ConnectError,
  HostKeyMismatchError,
  installPublicKey,
  runScript,
  scanHostKey,
  type SshPool,
  type SshTarget,
} from '../ssh/index.ts';
import type { AuditLog } from './audit.ts';

export interface NodeTargetSpec {
  nodes?: string[];
  groups?: string[];
  selector?: string;
}

export const targetOf = (n: NodeRow): SshTarget => ({
  nodeId: n.name,
  address: n.address,
  port: Number(n.port),
  user: n.ssh_user,
  hostKeyFingerprint: n.host_key_fingerprint,
});

export function nodeView(n: NodeRow, groups: string[]) {
  const facts = JSON.parse(n.facts || '{}') as Record<string, unknown>;
  const reserve = { cpuMillis: Number(n.reserve_cpu_millis), memoryBytes: Number(n.reserve_memory_bytes) };
  return {
    name: n.name,
    environment: n.environment,
    address: n.address,
    port: Number(n.port),
    user: n.ssh_user,
    roles: JSON.parse(n.roles) as NodeRole[],
    labels: JSON.parse(n.labels) as Record<string, string>,
    groups,
    hostKeyFingerprint: n.host_key_fingerprint,
    state: n.state,
    stateReason: n.state_reason,
    maintenance: !!Number(n.maintenance),
    reserve,
    allocatable: allocatable(
      { cpuCount: Number(facts.cpus ?? 0), memoryBytes: Number(facts.memoryBytes ?? 0) },
      reserve,
    ),
    facts,
    factsAt: n.facts_at === null ? null : Number(n.facts_at),
    lastSeenAt: n.last_seen_at === null ? null : Number(n.last_seen_at),
    createdAt: Number(n.created_at),
  };
}
export type NodeView = ReturnType<typeof nodeView>;

function parseReserve(r: { cpu?: string; memory?: string } | undefined, problems: ErrorDetail[]) {
  const out = { cpuMillis: 0, memoryBytes: 0 };
  if (r?.cpu !== undefined) {
    const p = parseCpu(r.cpu);
    if (p.ok) out.cpuMillis = p.value;
    else problems.push({ path: 'body/reserve/cpu', message: p.error });
  }
  if (r?.memory !== undefined) {
    const p = parseBytes(r.memory, 'memory');
    if (p.ok) out.memoryBytes = p.value;
    else problems.push({ path: 'body/reserve/memory', message: p.error });
  }
  return out;
}

export interface NodeServiceDeps {
  db: Db;
  audit: AuditLog;
  pool: SshPool;
  identity: { publicKey: string };
  /** How long a heartbeat or facts probe may take, connecting included, before the node is unreachable (15 s). */
  probeTimeoutMs?: number;
}

/** The inventory of nodes and how grim reaches them: pinned host keys, facts, health. */
export class NodeService {
  private readonly d: NodeServiceDeps;
  constructor(deps: NodeServiceDeps) {
    this.d = deps;
  }

  async list(f: { environment?: string; group?: string; selector?: string } = {}) {
    const terms = f.selector ? this.selector(f.selector) : [];
    const groups = await nodeGroups(this.d.db);
    return (await listNodeRows(this.d.db, f))
      .filter((n) => matchesSelector(JSON.parse(n.labels), terms))
      .map((n) => nodeView(n, groups.get(n.name) ?? []));
  }

  async get(name: string) {
    const n = await getNodeRow(this.d.db, name);
    if (!n) throw notFound(`node ${name}`);
    return nodeView(n, (await nodeGroups(this.d.db)).get(name) ?? []);
  }

  private selector(text: string) {
    const { terms, problems } = parseSelector(text);
    if (problems.length)
      throw invalid(
        'bad label selector',
        problems.map((message) => ({ path: 'selector', message })),
      );
    return terms;
  }

  async scan(address: string, port = 22) {
    try {
      return await scanHostKey(address, port, 10_000);
    } catch (err) {
      throw new DomainError(
        'remote_failed',
        `cannot fetch the host key of ${address}:${port}: ${(err as Error).message}`,
      );
    }
  }

  async create(body: {
    name: string;
    environment: string;
    address: string;
    port?: number;
    user?: string;
    roles?: NodeRole[];
    labels?: Record<string, string>;
    groups?: string[];
    hostKeyFingerprint: string;
    credential?: { password: string } | { privateKey: string; passphrase?: string };
    reserve?: { cpu?: string; memory?: string };
  }) {
    const problems: ErrorDetail[] = labelProblems(body.labels ?? {}).map((message) => ({
      path: 'body/labels',
      message,
    }));
    const reserve = parseReserve(body.reserve, problems);
    if (!(await this.d.db.get('SELECT name FROM environments WHERE name = ?', [body.environment])))
      problems.push({ path: 'body/environment', message: `environment ${body.environment} does not exist` });
    for (const g of body.groups ?? []) {
      const row = await this.d.db.get<{ environment: string }>(
        'SELECT environment FROM node_groups WHERE name = ?',
        [g],
      );
      if (!row) problems.push({ path: 'body/groups', message: `group ${g} does not exist` });
      else if (row.environment !== body.environment)
        problems.push({ path: 'body/groups', message: `group ${g} is in environment ${row.environment}` });
    }
    if (problems.length) throw invalid('the node cannot be added', problems);
    if (await getNodeRow(this.d.db, body.name)) throw conflict(`node ${body.name} exists`);
    const row: NodeRow = {
      name: body.name,
      environment: body.environment,
      address: body.address,
      port: body.port ?? 22,
      ssh_user: body.user ?? 'root',
      roles: JSON.stringify(body.roles ?? ['compute']),
      labels: JSON.stringify(body.labels ?? {}),
      host_key_fingerprint: body.hostKeyFingerprint,
      state: 'ready',
      state_reason: '',
      maintenance: 0,
      reserve_cpu_millis: reserve.cpuMillis,
      reserve_memory_bytes: reserve.memoryBytes,
      facts: '{}',
      facts_at: null,
      last_seen_at: null,
      created_at: Date.now(),
    };
    const target = targetOf(row);
    try {
      if (body.credential) {
        const auth =
          'password' in body.credential
            ? { password: body.credential.password }
            : { privateKey: body.credential.privateKey, passphrase: body.credential.passphrase };
        await installPublicKey(target, auth, this.d.identity.publicKey);
      }
      const { json } = await runScript(this.d.pool, target, 'facts', {}, { timeoutMs: 30_000 });
      row.facts = JSON.stringify(json);
      row.facts_at = row.last_seen_at = Date.now();
    } catch (err) {
      if (err instanceof HostKeyMismatchError)
        throw new DomainError(
          'conflict',
          `the node presented host key ${err.actual}, not the confirmed ${err.expected}; nothing was run`,
          [{ path: 'body/hostKeyFingerprint', message: `node presents ${err.actual}` }],
        );
      throw new DomainError('remote_failed', `cannot add ${body.name}: ${(err as Error).message}`);
    }
    await this.d.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO nodes (name, environment, address, port, ssh_user, roles, labels, host_key_fingerprint, state, state_reason,
           maintenance, reserve_cpu_millis, reserve_memory_bytes, facts, facts_at, last_seen_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row.name,
          row.environment,
          row.address,
          row.port,
          row.ssh_user,
          row.roles,
          row.labels,
          row.host_key_fingerprint,
          row.state,
          row.state_reason,
          row.maintenance,
          row.reserve_cpu_millis,
          row.reserve_memory_bytes,
          row.facts,
          row.facts_at,
          row.last_seen_at,
          row.created_at,
        ],
      );
      for (const g of body.groups ?? [])
        await tx.run('INSERT INTO group_members (group_name, node_name) VALUES (?, ?)', [g, row.name]);
    });
    return this.get(row.name);
  }

  async update(
    name: string,
    patch: {
      labels?: Record<string, string>;
      roles?: NodeRole[];
      maintenance?: boolean;
      reserve?: { cpu?: string; memory?: string };
    },
  ) {
    const n = await getNodeRow(this.d.db, name);
    if (!n) throw notFound(`node ${name}`);
    const problems: ErrorDetail[] = labelProblems(patch.labels ?? {}).map((message) => ({
      path: 'body/labels',
      message,
    }));
    const reserve = patch.reserve
      ? parseReserve(patch.reserve, problems)
      : { cpuMillis: Number(n.reserve_cpu_millis), memoryBytes: Number(n.reserve_memory_bytes) };
    if (problems.length) throw invalid('the node cannot be changed', problems);
    const maintenance = patch.maintenance ?? !!Number(n.maintenance);
    const state: NodeState =
      n.state === 'host-key-mismatch'
        ? n.state
        : maintenance
          ? 'maintenance'
          : n.state === 'maintenance'
            ? 'ready'
            : n.state;
    await this.d.db.run(
      'UPDATE nodes SET labels = ?, roles = ?, maintenance = ?, state = ?, reserve_cpu_millis = ?, reserve_memory_bytes = ? WHERE name = ?',
      [
        JSON.stringify(patch.labels ?? JSON.parse(n.labels)),
        JSON.stringify(patch.roles ?? JSON.parse(n.roles)),
        maintenance ? 1 : 0,
        state,
        reserve.cpuMillis,
        reserve.memoryBytes,
        name,
      ],
    );
    if (patch.maintenance === false && n.state === 'maintenance')
      await this.probe(name, true).catch(() => undefined);
    return this.get(name);
  }

  async repin(name: string, fingerprint: string) {
    const n = await getNodeRow(this.d.db, name);
    if (!n) throw notFound(`node ${name}`);
    await this.d.db.run(
      "UPDATE nodes SET host_key_fingerprint = ?, state = 'unreachable', state_reason = 're-pinned, not yet probed' WHERE name = ?",
      [fingerprint, name],
    );
    await this.d.audit.record({
      actor: 'system',
      actorKind: 'system',
      action: 'node.host-key-repinned',
      target: name,
      outcome: 'success',
      details: { from: n.host_key_fingerprint, to: fingerprint },
    });
    return this.probe(name, true);
  }

  async remove(name: string) {
    const r = await this.d.db.run('DELETE FROM nodes WHERE name = ?', [name]);
    if (!r.changes) throw notFound(`node ${name}`);
  }

  /**
   * Probe a node (heartbeat, or full facts) and move its state. A changed host key moves it to
   * host-key-mismatch, audited once per change; nothing runs there until an admin re-pins.
   */
  async probe(name: string, facts = false) {
    const n = await getNodeRow(this.d.db, name);
    if (!n) throw notFound(`node ${name}`);
    let outcome: ProbeOutcome = 'ok';
    let reason = '';
    if (n.state === 'host-key-mismatch') return this.get(name);
    // the whole probe is bounded, also on a connection that went silent (a link down: no reset, no answer)
    const timeoutMs = this.d.probeTimeoutMs ?? 15_000;
    const bound = AbortSignal.timeout(timeoutMs);
    try {
      const { json } = await runScript(
        this.d.pool,
        targetOf(n),
        facts ? 'facts' : 'heartbeat',
        {},
        { timeoutMs, signal: bound },
      );
      if (facts)
        await this.d.db.run('UPDATE nodes SET facts = ?, facts_at = ? WHERE name = ?', [
          JSON.stringify(json),
          Date.now(),
          name,
        ]);
    } catch (err) {
      if (err instanceof HostKeyMismatchError) {
        outcome = 'host-key-mismatch';
        reason = `host key changed: pinned ${err.expected}, node presents ${err.actual}`;
        await this.d.audit.record({
          actor: 'system',
          actorKind: 'system',
          action: 'node.host-key-mismatch',
          target: name,
          outcome: 'denied',
          details: { expected: err.expected, actual: err.actual },
        });
      } else {
        outcome = 'unreachable';
        reason = bound.aborted
          ? `no answer within ${timeoutMs} ms`
          : err instanceof ConnectError
            ? err.message
            : (err as Error).message;
      }
    }
    const state = stateAfterProbe(!!Number(n.maintenance), n.state, outcome);
    await setNodeState(this.d.db, name, state, reason.slice(0, 500), outcome === 'ok');
    return this.get(name);
  }

  /** Probe every node, each on its own (a dead node never stalls the others). */
  async probeAll(facts = false) {
    const rows = await listNodeRows(this.d.db);
    await Promise.all(rows.map((r) => this.probe(r.name, facts).catch(() => undefined)));
  }

  /** Resolve nodes, groups and a selector to node rows; unknown names are listed as problems. */
  async resolveTarget(t: NodeTargetSpec): Promise<NodeRow[]> {
    const problems: ErrorDetail[] = [];
    const picked = new Map<string, NodeRow>();
    for (const name of t.nodes ?? []) {
      const n = await getNodeRow(this.d.db, name);
      if (n) picked.set(name, n);
      else problems.push({ path: 'body/target/nodes', message: `no node ${name}` });
    }
    for (const g of t.groups ?? []) {
      if (!(await this.d.db.get('SELECT name FROM node_groups WHERE name = ?', [g])))
        problems.push({ path: 'body/target/groups', message: `no group ${g}` });
      for (const n of await listNodeRows(this.d.db, { group: g })) picked.set(n.name, n);
    }
    if (t.selector !== undefined) {
      const { terms, problems: p } = parseSelector(t.selector);
      problems.push(...p.map((message) => ({ path: 'body/target/selector', message })));
      if (!p.length)
        for (const n of await listNodeRows(this.d.db))
          if (matchesSelector(JSON.parse(n.labels), terms)) picked.set(n.name, n);
    }
    if (problems.length) throw invalid('bad target', problems);
    if (picked.size === 0)
      throw invalid('the target matches no nodes', [{ path: 'body/target', message: 'no nodes matched' }]);
    return [...picked.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
