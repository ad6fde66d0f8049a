import { useEffect, useState } from 'react';
import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import type { PageProps } from '../registry.ts';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { Meter } from '../../components/Meter.tsx';
import { PoolWizard } from './PoolWizard.tsx';
import { ReplaceDisk } from './ReplaceDisk.tsx';
import { PoolSchedule, type Schedule } from './PoolSchedule.tsx';
import { VdevTree } from './VdevTree.tsx';
import { DestroyPool, ImportPools } from './PoolAdoption.tsx';
import { PoolDatasets } from './PoolDatasets.tsx';
import {
  bytes,
  storageNodeList,
  zfsStateClass,
  type Dataset,
  type Disk,
  type Health,
  type Pool,
  type Vdev,
} from './storage-types.ts';

function scanText(h: Health): string {
  const s = h.scan;
  if (!s.kind) return 'no scrub or resilver yet';
  if (s.state === 'in-progress')
    return `${s.kind} in progress, ${s.percentDone ?? 0}% done${s.etaSeconds !== undefined ? `, ${s.etaSeconds} s to go` : ''}`;
  return `${s.kind} ${s.state}${s.errors !== undefined ? ` with ${s.errors} errors` : ''}${s.when ? ` on ${s.when}` : ''}`;
}

/**
 * One storage node: pools (state, capacity, scan, vdev tree, datasets and snapshots, destroy), importing
 * pools, the wizard (this node or several), disks, events.
 */
export function StorageNodePage({ params }: PageProps) {
  const node = params.name;
  const q = useQuery((signal) => call('getStorageNode', { params: { node }, query: {} }, signal), [node]);
  const events = useQuery((signal) => call('storageEvents', { query: { node, limit: 20 } }, signal), [node]);
  const others = useQuery(async (signal) => (await storageNodeList(signal)).map((n) => n.name), []);
  const act = useAction();
  const [replacing, setReplacing] = useState<{ pool: string; vdev: Vdev } | null>(null);
  const reload = () => {
    q.reload();
    events.reload();
  };
  // The server checks every minute; the page follows.
  useEffect(() => {
    const t = setInterval(reload, 5000);
    return () => clearInterval(t);
  }, [node]);
  const data = q.data;
  const pools = (data?.pools ?? []) as Pool[];
  const health = (data?.health ?? []) as Health[];
  const disks = (data?.disks ?? []) as Disk[];
  const datasets = (data?.datasets ?? []) as Dataset[];
  return (
    <Page
      title={`Storage: ${node}`}
      actions={
        <button
          type="button"
          disabled={act.busy}
          onClick={() =>
            void act.run(async () => (await call('checkStorageNode', { params: { node } }), reload()))
          }
        >
          Check now
        </button>
      }
    >
      <ErrorMessage error={q.error ?? act.error} title="Storage of this node could not be read." />
      {data && (
        <p className="muted">
          {(data.capabilities as { implementation?: string; poolVersion?: number } | null)?.implementation ??
            'no ZFS'}{' '}
          (pool version {(data.capabilities as { poolVersion?: number } | null)?.poolVersion ?? '-'}), checked{' '}
          {formatTime(data.checkedAt)}
          {data.error && ` — last check failed: ${data.error}`}
        </p>
      )}
      {pools.map((p) => {
        const h = health.find((x) => x.name === p.name);
        return (
          <section key={p.name} className="card" aria-label={`Pool ${p.name}`}>
            <h2>
              Pool {p.name} <span className={zfsStateClass(p.state)}>{p.state}</span>
            </h2>
            {h && (
              <div className="capacity-row">
                <span className="capacity-label">Capacity</span>
                <Meter
                  label={`${p.name} capacity`}
                  value={h.allocatedBytes}
                  max={h.sizeBytes}
                  text={`${h.capacityPercent}% of ${bytes(h.sizeBytes)}`}
                />
              </div>
            )}
            {h && (
              <p>
                Scan: {scanText(h)}{' '}
                {h.scan.state === 'in-progress' && (
                  <Meter
                    label={`${p.name} scan`}
                    kind="progress"
                    value={h.scan.percentDone ?? 0}
                    max={100}
                    text=""
                  />
                )}
              </p>
            )}
            {p.status && <p className="muted">{p.status}</p>}
            <VdevTree pool={p} onReplace={(vdev) => setReplacing({ pool: p.name, vdev })} />
            <p>
              <button
                type="button"
                disabled={act.busy}
                onClick={() =>
                  void act.run(
                    async () => (
                      await call('scrubPool', { params: { node, pool: p.name }, body: {} }),
                      reload()
                    ),
                  )
                }
              >
                Scrub now
              </button>{' '}
              <code>zpool scrub {p.name}</code> <DestroyPool node={node} pool={p.name} onDone={reload} />
            </p>
            <PoolDatasets node={node} pool={p.name} datasets={datasets} onDone={reload} />
            <PoolSchedule
              node={node}
              pool={p.name}
              schedule={((data?.schedules ?? []) as Schedule[]).find(
                (x) => x.kind === 'scrub' && x.target === p.name,
              )}
              onSaved={reload}
            />
            {replacing?.pool === p.name && (
              <ReplaceDisk
                node={node}
                pool={p.name}
                vdev={replacing.vdev}
                disks={disks}
                onDone={() => (setReplacing(null), reload())}
              />
            )}
          </section>
        );
      })}
      {data && <ImportPools node={node} onDone={reload} />}
      {data && (
        <PoolWizard
          node={node}
          otherNodes={(others.data ?? []).filter((n) => n !== node)}
          disks={disks.filter((d) => !d.pool)}
          compressions={(data.capabilities as { compression?: string[] } | null)?.compression ?? []}
          onCreated={reload}
        />
      )}
      <section className="card">
        <h2>Disks</h2>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Disk</th>
              <th scope="col">Size</th>
              <th scope="col">Media</th>
              <th scope="col">State</th>
              <th scope="col">SMART</th>
            </tr>
          </thead>
          <tbody>
            {disks.map((d) => (
              <tr key={d.path}>
                <td>{d.path}</td>
                <td>{bytes(d.sizeBytes)}</td>
                <td>{d.media}</td>
                <td>{d.inUse ?? 'free'}</td>
                <td>{d.smart?.passed === true ? 'passed' : d.smart?.passed === false ? 'FAILED' : '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Events</h2>
        <ul aria-label="Storage events">
          {(events.data?.events ?? []).map((e) => (
            <li key={e.id}>
              {formatTime(e.at)} <span className={`zsev zsev-${e.severity}`}>{e.severity}</span> {e.message}
            </li>
          ))}
        </ul>
      </section>
    </Page>
  );
}
