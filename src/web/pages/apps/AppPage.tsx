import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { Link, navigate } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { TimeSeriesChart, type RangeId } from '../../components/TimeSeriesChart.tsx';
import { rangeMs } from '../../components/chart/align.ts';
import type { App } from '../../types.ts';
import type { PageProps } from '../registry.ts';
import { OvercommitWarning, heldNodes } from './OvercommitWarning.tsx';

function AppUsage({ app }: { app: string }) {
  const [range, setRange] = useState<RangeId>('1h');
  const q = useQuery(
    async (signal) => {
      const to = Date.now();
      const from = to - rangeMs(range);
      const get = (metric: string) =>
        call('getMetricSeries', { query: { scope: 'app', name: app, metric, from, to } }, signal);
      const [cpu, mem] = await Promise.all([get('instance_cpu_millicores'), get('instance_mem_bytes')]);
      return {
        cpu: [{ name: 'CPU (millicores)', points: cpu.points.map((p): [number, number] => [p.ts, p.value]) }],
        mem: [
          {
            name: 'memory (MiB)',
            points: mem.points.map((p): [number, number] => [p.ts, p.value / 1048576]),
          },
        ],
      };
    },
    [app, range],
  );
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the app's usage." />;
  return (
    <div className="usage-graphs">
      <TimeSeriesChart
        title="CPU"
        unit="millicores"
        series={q.data?.cpu ?? []}
        range={range}
        onRangeChange={setRange}
      />
      <TimeSeriesChart
        title="Memory"
        unit="MiB"
        series={q.data?.mem ?? []}
        range={range}
        onRangeChange={setRange}
      />
    </div>
  );
}

function Logs({ app }: { app: string }) {
  const q = useQuery(
    (signal) => call('appLogs', { params: { name: app }, query: { tail: 200 } }, signal),
    [app],
  );
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the logs." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  if (q.data.logs.length === 0) return <p className="muted">No instances, no logs.</p>;
  return (
    <>
      <button type="button" className="button" onClick={q.reload}>
        Refresh logs
      </button>
      {q.data.logs.map((l) => (
        <div key={l.instance} className="task">
          <div className="task-head">
            <strong>{l.instance}</strong>{' '}
            <span className="muted small">
              on {l.node}, release {l.release}
            </span>
          </div>
          {l.error && <p className="task-error">{l.error}</p>}
          <pre className="task-output" aria-label={`Log of ${l.instance}`}>
            {l.text || '(empty)'}
          </pre>
        </div>
      ))}
    </>
  );
}

function Operations({ app, onStarted }: { app: App; onStarted(): void }) {
  const isOperator = useCan('operator');
  const [replicas, setReplicas] = useState(String(app.replicas));
  const [accepted, setAccepted] = useState(false);
  const act = useAction();
  if (!isOperator) return null;
  const name = app.name;
  const started = (r: unknown) => {
    if (!r) return;
    setAccepted(false);
    onStarted();
  };
  return (
    <section className="panel" aria-labelledby="app-ops">
      <h2 id="app-ops">Operations</h2>
      <div className="inline-form">
        <div className="field field-narrow">
          <label htmlFor="app-scale">Instances</label>
          <input
            id="app-scale"
            type="number"
            min={0}
            max={10000}
            value={replicas}
            onChange={(e) => setReplicas(e.target.value)}
          />
        </div>
        <div className="field field-buttons">
          <button
            type="button"
            className="button"
            disabled={act.busy || (!!heldNodes(act.error) && !accepted)}
            onClick={async () =>
              started(
                await act.run(() =>
                  call('scaleApp', {
                    params: { name },
                    body: { replicas: Number(replicas), acceptOvercommit: accepted },
                  }),
                ),
              )
            }
          >
            Scale
          </button>
          <button
            type="button"
            className="button"
            disabled={act.busy || app.releases.length < 2 || (!!heldNodes(act.error) && !accepted)}
            onClick={async () =>
              started(
                await act.run(() =>
                  call('rollbackApp', { params: { name }, body: { acceptOvercommit: accepted } }),
                ),
              )
            }
          >
            Roll back to the previous release
          </button>
          <ConfirmButton
            label="Delete app"
            danger
            question={`Remove every instance of ${name} and the app?`}
            busy={act.busy}
            onConfirm={async () => {
              if (await act.run(() => call('deleteApp', { params: { name } }))) navigate('/apps');
            }}
          />
        </div>
      </div>
      {!heldNodes(act.error) && <ErrorMessage error={act.error} title="The operation was not started." />}
      <OvercommitWarning error={act.error} accepted={accepted} onAccept={setAccepted} />
    </section>
  );
}

export function AppPage({ params }: PageProps) {
  const q = useQuery((signal) => call('getApp', { params: { name: params.name } }, signal), [params.name]);
  if (q.error)
    return (
      <Page title={`App ${params.name}`} actions={<Link to="/apps">All apps</Link>}>
        <ErrorMessage error={q.error} title="Could not load the app." />
      </Page>
    );
  if (!q.data) return <p className="muted">Loading…</p>;
  const app = q.data.app;
  return (
    <Page
      title={`App ${app.name}`}
      actions={
        <>
          <button type="button" className="button" onClick={q.reload}>
            Refresh
          </button>
          <Link to="/apps">All apps</Link>
        </>
      }
    >
      <section className="panel" aria-labelledby="app-summary">
        <h2 id="app-summary">Summary</h2>
        <dl className="facts">
          <dt>Where</dt>
          <dd>
            {app.environment} / {app.group}
          </dd>
          <dt>Runtime</dt>
          <dd>{app.runtime}</dd>
          <dt>Size</dt>
          <dd>
            {app.size ?? 'custom'}: {app.resources.cpu} CPU, {app.resources.memory} memory,{' '}
            {app.resources.disk} disk
          </dd>
          <dt>Instances wanted</dt>
          <dd>{app.replicas}</dd>
          <dt>Current release</dt>
          <dd>{app.currentRelease ?? '—'}</dd>
          <dt>Last rollout</dt>
          <dd>
            {app.rollout ? (
              <>
                {app.rollout.kind} to release {app.rollout.targetRelease}{' '}
                <StateBadge state={app.rollout.status} />{' '}
                <Link to={`/jobs/${app.rollout.jobId}`}>job {app.rollout.jobId}</Link>
                {app.rollout.message && <span className="muted"> {app.rollout.message}</span>}
              </>
            ) : (
              '—'
            )}
          </dd>
        </dl>
      </section>
      <Operations app={app} onStarted={q.reload} />
      <section className="panel" aria-labelledby="app-instances">
        <h2 id="app-instances">Instances</h2>
        <table className="table">
          <caption className="visually-hidden">Instances of {app.name}</caption>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col">Release</th>
              <th scope="col" className="num">
                Restarts
              </th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {app.instances.map((i) => (
              <tr key={i.id}>
                <td>{i.id}</td>
                <td>
                  <Link to={`/nodes/${i.node}`}>{i.node}</Link>
                </td>
                <td>
                  <StateBadge state={i.state} />
                </td>
                <td>{i.release}</td>
                <td className="num">{i.restarts}</td>
                <td>{i.message || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-labelledby="app-usage">
        <h2 id="app-usage">Usage</h2>
        <AppUsage app={app.name} />
      </section>
      <section className="panel" aria-labelledby="app-releases">
        <h2 id="app-releases">Releases</h2>
        <table className="table">
          <caption className="visually-hidden">Releases of {app.name}</caption>
          <thead>
            <tr>
              <th scope="col">Release</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">By</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {[...app.releases].reverse().map((r) => (
              <tr key={r.number}>
                <td>
                  {r.number}
                  {r.number === app.currentRelease && <span className="muted"> (current)</span>}
                </td>
                <td>
                  {r.kind}
                  {r.rollbackOf !== null && ` of ${r.rollbackOf}`}
                </td>
                <td>
                  <StateBadge state={r.status} />
                </td>
                <td>{r.createdBy}</td>
                <td className="nowrap">{formatTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-labelledby="app-logs">
        <h2 id="app-logs">Logs</h2>
        <Logs app={app.name} />
      </section>
    </Page>
  );
}
