// Reading a storage node: its inventory (disks + ZFS capabilities) and its pools, datasets and
// snapshots, parsed by src/domain/storage and kept in the storage_nodes table.
import { invalid, notFound, DomainError } from '../../domain/errors.ts';
import {
  capabilitiesFrom,
  disksFrom,
  type RawInventory,
  type StorageDisk,
} from '../../domain/storage/inventory.ts';
import { summarize, type PoolHealth } from '../../domain/storage/health.ts';
import { byteProperty, parseZfsGet, parseZfsList, parseZpoolList } from '../../domain/storage/parse-lists.ts';
import { parseZpoolStatusJson } from '../../domain/storage/parse-status-json.ts';
import { parseZpoolStatusText } from '../../domain/storage/parse-status-text.ts';
import type { PoolStatus } from '../../domain/storage/pool-status.ts';
import type { ZfsCapabilities } from '../../domain/storage/pool-plan.ts';
import { getNodeRow } from '../../store/nodes-repo.ts';
import type { Db } from '../../store/db.ts';
import { RemoteCommandError, runScript, type SshPool, type SshTarget } from '../../ssh/index.ts';
import { targetOf } from '../nodes.ts';

export interface DatasetInfo {
  name: string;
  type: string;
  usedBytes: number;
  availableBytes: number | null;
  referencedBytes: number;
  quotaBytes: number | null;
  refquotaBytes: number | null;
  reservationBytes: number | null;
  compression: string;
  recordsize: number | null;
  mountpoint: string;
  createdAt: number | null;
}

export interface NodeStorage {
  capabilities: ZfsCapabilities | null;
  disks: StorageDisk[];
  pools: PoolStatus[];
  health: PoolHealth[];
  datasets: DatasetInfo[];
}

export interface StatusReading {
  pools: PoolStatus[];
  health: PoolHealth[];
  datasets: DatasetInfo[];
}

export class StorageNodes {
  private readonly d: { db: Db; pool: SshPool };
  constructor(d: { db: Db; pool: SshPool }) {
    this.d = d;
  }

  async target(node: string): Promise<SshTarget> {
    const row = await getNodeRow(this.d.db, node);
    if (!row) throw notFound(`node ${node}`);
    return targetOf(row);
  }

  /** Runs a node script and returns its JSON; a failing zpool/zfs becomes a 'remote_failed' error with its message. */
  async run(node: string, script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<any> {
    const target = await this.target(node);
    try {
      const { json } = await runScript(this.d.pool, target, script, env, { timeoutMs });
      return json;
    } catch (err) {
      if (err instanceof RemoteCommandError) {
        const stderr = err.stderrTail.trim().split('\n').slice(-6).join('\n');
        throw new DomainError('remote_failed', `${script} on ${node} failed: ${stderr || err.message}`, [
          { path: script, message: stderr },
        ]);
      }
      throw err;
    }
  }

  async readStatus(node: string): Promise<StatusReading> {
    const raw = (await this.run(node, 'zfs-status', {})) as {
      status: string;
      statusJson: string;
      list: string;
      props: string;
      types: string;
    };
    let pools: PoolStatus[];
    try {
      pools = raw.statusJson ? parseZpoolStatusJson(raw.statusJson) : parseZpoolStatusText(raw.status);
    } catch {
      pools = parseZpoolStatusText(raw.status);
    }
    const list = parseZpoolList(raw.list);
    const health = pools.map((p) =>
      summarize(
        p,
        list.find((l) => l.name === p.name),
      ),
    );
    const props = parseZfsGet(raw.props);
    const types = new Map(parseZfsList(raw.types, ['name', 'type']).map((r) => [r.name, r.type]));
    const datasets = [...props.entries()].map(([name, p]): DatasetInfo => ({
      name,
      type: types.get(name) ?? (name.includes('@') ? 'snapshot' : 'filesystem'),
      usedBytes: Number(p.used ?? 0) || 0,
      availableBytes: p.available === undefined || p.available === '-' ? null : Number(p.available),
      referencedBytes: Number(p.referenced ?? 0) || 0,
      quotaBytes: byteProperty(p.quota),
      refquotaBytes: byteProperty(p.refquota),
      reservationBytes: byteProperty(p.reservation),
      compression: p.compression ?? '-',
      recordsize: byteProperty(p.recordsize),
      mountpoint: p.mountpoint ?? '-',
      createdAt: /^[0-9]+$/.test(p.creation ?? '') ? Number(p.creation) * 1000 : null,
    }));
    return { pools, health, datasets };
  }

  async readInventory(node: string, pools: PoolStatus[]) {
    const raw = (await this.run(node, 'zfs-inventory', {})) as RawInventory;
    return {
      capabilities: capabilitiesFrom(raw.zfs),
      disks: disksFrom(raw, pools),
      answers: raw.zfs.answers,
    };
  }

  /** Reads everything from the node now. */
  async read(node: string): Promise<NodeStorage> {
    const first = (await this.run(node, 'zfs-inventory', {})) as RawInventory;
    const capabilities = capabilitiesFrom(first.zfs);
    if (!capabilities) throw invalid(`node ${node} has no ZFS (zpool is not installed)`);
    const status = first.zfs.answers ? await this.readStatus(node) : { pools: [], health: [], datasets: [] };
    return { capabilities, disks: disksFrom(first, status.pools), ...status };
  }
}
