// The storage health loop: every minute (and on demand) read each storage node's pools, record what
// changed as storage events and in the audit log, run due scrubs and snapshot policies, and keep the
// numbers /metrics exposes.
import type { PoolHealth } from '../../domain/storage/health.ts';
import { policySnapshotName, snapshotsToPrune } from '../../domain/storage/datasets.ts';
import {
  getStorageNode,
  listSchedules,
  listStorageNodes,
  markScheduleRun,
  saveStorageNode,
} from '../../store/storage-repo.ts';
import { SCRUB_STARTED, type StorageService } from './storage-service.ts';
import { listNodeRows } from '../../store/nodes-repo.ts';
import type { Db } from '../../store/db.ts';
import { LeaseLostError } from '../../store/leases-repo.ts';
import type { LeaseManager } from '../leases.ts';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const POOL_STATES = ['ONLINE', 'DEGRADED', 'FAULTED', 'OFFLINE', 'UNAVAIL', 'REMOVED', 'SUSPENDED'];
export const STORAGE_LOOP_LEASE = 'loop:zfs-health';

export class StorageHealthLoop {
  readonly #s: StorageService;
  #running: Promise<void> | null = null;

  constructor(service: StorageService) {
    this.#s = service;
  }

  /**
   * Checks one node: new health, events for what changed (storage_events + audit). Writes go through `db` (the loop's fenced Db; the plain one on demand).
   */
  async checkNode(node: string, db: Db = this.#s.d.db): Promise<PoolHealth[]> {
    const s = this.#s.withDb(db);
    const before = await getStorageNode(db, node);
    const previous = before ? (JSON.parse(before.health) as PoolHealth[]) : undefined;
    let reading;
    try {
      reading = await s.nodes.readStatus(node);
    } catch (err) {
      await saveStorageNode(db, node, { error: (err as Error).message });
      return previous ?? [];
    }
    await saveStorageNode(db, node, {
      pools: JSON.stringify(reading.pools),
      health: JSON.stringify(reading.health),
      datasets: JSON.stringify(reading.datasets),
      error: '',
    });
    await s.recordHealth(node, previous, reading.health);
    return reading.health;
  }

  /**
   * Runs scrubs and snapshot policies that are due. Each run is claimed first with a write through `db`
   * (fenced in the loop), so a loop that has lost its lease starts nothing on a node.
   */
  async runSchedules(now = Date.now(), db: Db = this.#s.d.db): Promise<void> {
    const s = this.#s.withDb(db);
    for (const sch of await listSchedules(db)) {
      if (now - Number(sch.last_run_at) < Number(sch.every_seconds) * 1000) continue;
      await markScheduleRun(db, sch.id, sch.kind === 'scrub' ? SCRUB_STARTED : 'starting');
      try {
        if (sch.kind === 'scrub') {
          await s.scrub(sch.node, sch.target); // its result is written when the scrub is seen finished
        } else {
          const name = policySnapshotName(sch.target, sch.label, new Date(now));
          await s.snapshot(sch.node, 'create', name, {}, false);
          const reading = await s.nodes.readStatus(sch.node);
          const snaps = reading.datasets.filter((d) => d.type === 'snapshot').map((d) => d.name);
          const prune = snapshotsToPrune(snaps, sch.target, sch.label, Number(sch.keep));
          for (const old of prune) await s.snapshot(sch.node, 'destroy', old, {}, false);
          await markScheduleRun(db, sch.id, `took ${name}${prune.length ? `, removed ${prune.length}` : ''}`);
        }
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        await markScheduleRun(db, sch.id, `failed: ${(err as Error).message}`);
      }
    }
  }

  /** One pass over every storage node (those grim has read before). Overlapping passes are skipped. */
  tick(db: Db = this.#s.d.db): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = (async () => {
      try {
        await this.runSchedules(Date.now(), db);
        const known = new Set((await listStorageNodes(db)).map((r) => r.node));
        for (const node of known) await this.checkNode(node, db);
        // Nodes given the storage role that grim has not read yet: a first full read (inventory too).
        for (const row of await listNodeRows(db)) {
          const roles = JSON.parse(row.roles) as string[];
          if (roles.includes('storage') && !known.has(row.name))
            await this.#s
              .withDb(db)
              .refresh(row.name)
              .catch((err) => {
                if (err instanceof LeaseLostError) throw err;
              });
        }
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  /**
   * The storage loop: a pass every `everyMs` on the one grim instance that holds `loop:zfs-health`, every
   * write fenced by that lease's token. Returns an async stop.
   */
  runUnder(leases: LeaseManager, everyMs = Number(process.env.GRIM_STORAGE_CHECK_MS) || 60_000) {
    return leases.runUnderLease(STORAGE_LOOP_LEASE, (lease) => this.tick(lease.db), { everyMs });
  }

  /** Prometheus lines for /metrics (names listed in the README). */
  async metricsLines(): Promise<string[]> {
    const rows = await listStorageNodes(this.#s.d.db);
    const out = [
      '# HELP grim_zpool_health 1 for the pool state the pool is in (state label), 0 for the others',
      '# TYPE grim_zpool_health gauge',
    ];
    const cap = [
      '# HELP grim_zpool_capacity_ratio Allocated / size of the pool (0..1)',
      '# TYPE grim_zpool_capacity_ratio gauge',
    ];
    const size = [
      '# HELP grim_zpool_size_bytes Size of the pool as zpool list reports it',
      '# TYPE grim_zpool_size_bytes gauge',
    ];
    const alloc = [
      '# HELP grim_zpool_allocated_bytes Allocated bytes of the pool',
      '# TYPE grim_zpool_allocated_bytes gauge',
    ];
    const errs = [
      '# HELP grim_zpool_errors Read + write + checksum errors over all vdevs of the pool',
      '# TYPE grim_zpool_errors gauge',
    ];
    const bad = [
      '# HELP grim_zpool_vdevs_unhealthy Vdevs not ONLINE (spares not AVAIL/INUSE)',
      '# TYPE grim_zpool_vdevs_unhealthy gauge',
    ];
    const scan = [
      '# HELP grim_zpool_scan_in_progress 1 while a scrub or resilver runs (kind label)',
      '# TYPE grim_zpool_scan_in_progress gauge',
    ];
    const scanErr = [
      '# HELP grim_zpool_last_scrub_errors Errors found by the last finished scrub',
      '# TYPE grim_zpool_last_scrub_errors gauge',
    ];
    const up = [
      "# HELP grim_storage_node_up 1 when grim could read the node's ZFS at the last check",
      '# TYPE grim_storage_node_up gauge',
    ];
    const smart = [
      '# HELP grim_disk_smart_passed 1 when SMART says the disk passed, 0 when it failed',
      '# TYPE grim_disk_smart_passed gauge',
    ];
    for (const r of rows) {
      const node = esc(r.node);
      up.push(`grim_storage_node_up{node="${node}"} ${r.error ? 0 : 1}`);
      for (const p of JSON.parse(r.health) as PoolHealth[]) {
        const l = `node="${node}",pool="${esc(p.name)}"`;
        for (const st of POOL_STATES)
          out.push(`grim_zpool_health{${l},state="${st}"} ${p.state === st ? 1 : 0}`);
        cap.push(`grim_zpool_capacity_ratio{${l}} ${p.capacityPercent / 100}`);
        size.push(`grim_zpool_size_bytes{${l}} ${p.sizeBytes}`);
        alloc.push(`grim_zpool_allocated_bytes{${l}} ${p.allocatedBytes}`);
        errs.push(`grim_zpool_errors{${l}} ${p.errors}`);
        bad.push(`grim_zpool_vdevs_unhealthy{${l}} ${p.unhealthy.length}`);
        for (const kind of ['scrub', 'resilver'])
          scan.push(
            `grim_zpool_scan_in_progress{${l},kind="${kind}"} ${p.scan.kind === kind && p.scan.state === 'in-progress' ? 1 : 0}`,
          );
        if (p.scan.kind === 'scrub' && p.scan.state === 'finished')
          scanErr.push(`grim_zpool_last_scrub_errors{${l}} ${p.scan.errors ?? 0}`);
      }
      for (const d of JSON.parse(r.disks) as { path: string; smart: { passed: boolean | null } | null }[])
        if (d.smart && d.smart.passed !== null)
          smart.push(
            `grim_disk_smart_passed{node="${node}",disk="${esc(d.path)}"} ${d.smart.passed ? 1 : 0}`,
          );
    }
    return [...out, ...cap, ...size, ...alloc, ...errs, ...bad, ...scan, ...scanErr, ...up, ...smart];
  }
}
