import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import type { PageProps } from '../registry.ts';

interface Health {
  leader: string | null;
  masters: { node: string; up: boolean; leader: boolean }[];
  volumeServers: {
    node: string;
    up: boolean;
    heartbeating: boolean;
    volumes: number;
    diskBytes: number;
    diskUsedBytes: number;
  }[];
  filers: { node: string; up: boolean }[];
  s3: { node: string; up: boolean }[];
  problems: { kind: string; subject: string; message: string }[];
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** Storage → cluster: masters (which leads), volume servers with capacity, buckets, keys (names), mounts, health, repair and upgrade. */
export function StorageClusterPage({ params }: PageProps) {
  const environment = params.environment;
  const q = useQuery(
    async (signal) => (await call('getStorageCluster', { params: { environment } }, signal)).cluster,
    [environment],
  );
  const isOperator = useCan('operator');
  const isAdmin = useCan('admin');
  const act = useAction();
  const [output, setOutput] = useState('');
  const [version, setVersion] = useState('');
  if (q.error)
    return (
      <Page title={`Storage cluster ${environment}`}>
        <ErrorMessage error={q.error} title="Could not load the cluster." />
      </Page>
    );
  if (!q.data)
    return (
      <Page title={`Storage cluster ${environment}`}>
        <p className="muted">Loading…</p>
      </Page>
    );
  const c = q.data;
  const h = c.health as Health | null;
  const repair = (apply: boolean) =>
    act.run(async () => {
      const r = await call('repairStorage', { params: { environment }, body: { apply } });
      setOutput(
        `${r.output.trim()}\n\n${r.applied ? 'applied' : 'preview'}: ${r.commands.join('; ')} (under-replicated volumes: ${r.underReplicated ?? '?'})`,
      );
      q.reload();
    });
  const poll = () =>
    act.run(async () => {
      await call('pollSeaweedHealth', { params: { environment } });
      q.reload();
    });
  return (
    <Page title={`Storage cluster ${environment}`}>
      <section className="panel" aria-labelledby="sc-state">
        <h2 id="sc-state">State</h2>
        <p>
          <StateBadge state={c.state} title={c.stateReason} /> SeaweedFS {c.version}
          {c.stateReason ? ` — ${c.stateReason}` : ''}
        </p>
        <p>
          Replication {String((c.spec as { replication?: string }).replication)}: {c.replicationExplained}
        </p>
        <p>S3 endpoints: {c.s3Endpoints.join(', ') || '—'}</p>
        <p className="muted">Health polled {c.healthAt ? formatTime(c.healthAt) : 'never'}</p>
        {h && h.problems.length > 0 ? (
          <ul aria-label="Problems">
            {h.problems.map((p) => (
              <li key={`${p.kind}-${p.subject}`}>
                <strong>{p.kind}</strong>: {p.message}
              </li>
            ))}
          </ul>
        ) : h ? (
          <p>Healthy.</p>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="sc-masters">
        <h2 id="sc-masters">Masters</h2>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Up</th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {(h?.masters ?? []).map((m) => (
              <tr key={m.node}>
                <td>{m.node}</td>
                <td>{m.up ? 'yes' : 'NO'}</td>
                <td>{m.leader ? 'leader' : 'follower'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="panel" aria-labelledby="sc-volumes">
        <h2 id="sc-volumes">Volume servers</h2>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Up</th>
              <th scope="col">Heartbeating</th>
              <th scope="col" className="num">
                Volumes
              </th>
              <th scope="col" className="num">
                Disk used
              </th>
              <th scope="col" className="num">
                Capacity
              </th>
            </tr>
          </thead>
          <tbody>
            {(h?.volumeServers ?? []).map((v) => (
              <tr key={v.node}>
                <td>{v.node}</td>
                <td>{v.up ? 'yes' : 'NO'}</td>
                <td>{v.heartbeating ? 'yes' : 'NO'}</td>
                <td className="num">{v.volumes}</td>
                <td className="num">{gib(v.diskUsedBytes)}</td>
                <td className="num">{gib(v.diskBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          Filers: {(h?.filers ?? []).map((f) => `${f.node} ${f.up ? 'up' : 'DOWN'}`).join(', ') || '—'}; S3
          gateways: {(h?.s3 ?? []).map((f) => `${f.node} ${f.up ? 'up' : 'DOWN'}`).join(', ') || '—'}
        </p>
      </section>

      <section className="panel" aria-labelledby="sc-access">
        <h2 id="sc-access">Buckets, keys and mounts</h2>
        <table className="table">
          <caption>Buckets</caption>
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              <th scope="col" className="num">
                Quota (MB)
              </th>
            </tr>
          </thead>
          <tbody>
            {c.buckets.map((b) => (
              <tr key={b.name}>
                <td>{b.name}</td>
                <td className="num">{b.quotaMB ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="table">
          <caption>Keys (names only: a secret is shown once, when the key is created)</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Access key</th>
              <th scope="col">Bucket</th>
              <th scope="col">Actions</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {c.keys.map((k) => (
              <tr key={k.accessKey}>
                <td>{k.name}</td>
                <td>
                  <code>{k.accessKey}</code>
                </td>
                <td>{k.bucket}</td>
                <td>{k.actions.join(', ')}</td>
                <td>{k.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="table">
          <caption>Mounts</caption>
          <thead>
            <tr>
              <th scope="col">Mount</th>
              <th scope="col">Node</th>
              <th scope="col">Filer path</th>
              <th scope="col">Directory</th>
            </tr>
          </thead>
          <tbody>
            {c.mounts.map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td>{m.node}</td>
                <td>{m.path}</td>
                <td>{m.dir}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {isOperator && (
        <section className="panel" aria-labelledby="sc-ops">
          <h2 id="sc-ops">Operations</h2>
          <div className="inline-form">
            <button type="button" className="button" disabled={act.busy} onClick={poll}>
              Check health now
            </button>
            <button type="button" className="button" disabled={act.busy} onClick={() => repair(false)}>
              Preview repair
            </button>
            <ConfirmButton
              label="Repair"
              question="Run volume.fix.replication -apply under the shell lock?"
              busy={act.busy}
              onConfirm={() => repair(true)}
            />
          </div>
          {isAdmin && (
            <div className="inline-form">
              <label className="field field-narrow">
                <span>Upgrade to version</span>
                <input
                  value={version}
                  onChange={(e) => setVersion(e.target.value)}
                  placeholder="a recorded release"
                />
              </label>
              <ConfirmButton
                label="Rolling upgrade"
                question={`Upgrade to ${version} one process at a time?`}
                busy={act.busy || !version}
                onConfirm={() =>
                  act.run(async () => {
                    await call('upgradeStorage', { params: { environment }, body: { version } });
                    q.reload();
                  })
                }
              />
            </div>
          )}
          {act.error ? <ErrorMessage error={act.error} title="The operation failed." /> : null}
          {output && <pre aria-label="Repair output">{output}</pre>}
        </section>
      )}
    </Page>
  );
}
