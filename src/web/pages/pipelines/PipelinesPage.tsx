import { useState } from 'react';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { BuildConfigPanel } from './BuildConfigPanel.tsx';
import { BuildSettingsPanel } from './BuildSettingsPanel.tsx';

/** Pipelines, the builds of the one selected (from Buildbot's API, with the releases they made), and master.cfg. */
export function PipelinesPage() {
  const q = useQuery((signal) => call('listPipelines', undefined, signal), []);
  const [selected, setSelected] = useState<string | null>(null);
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the pipelines." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.pipelines.length === 0)
    body = (
      <EmptyState title="No pipelines yet">
        <p>
          A pipeline builds a git branch into an image (or an app tarball) and deploys it to one app:{' '}
          <code>
            grim pipeline create NAME --repo URL --branch main --app APP --build dockerfile:Dockerfile
          </code>
        </p>
      </EmptyState>
    );
  else
    body = (
      <table className="table">
        <caption className="visually-hidden">Pipelines</caption>
        <thead>
          <tr>
            <th scope="col">Pipeline</th>
            <th scope="col">App</th>
            <th scope="col">Repository</th>
            <th scope="col">Branch</th>
            <th scope="col">Build</th>
            <th scope="col">Triggers</th>
          </tr>
        </thead>
        <tbody>
          {q.data.pipelines.map((p) => (
            <tr key={p.name}>
              <td>
                <button type="button" className="link" onClick={() => setSelected(p.name)}>
                  {p.name}
                </button>
              </td>
              <td>
                <Link to={`/apps/${p.app}`}>{p.app}</Link>
              </td>
              <td>
                <code>{p.repo}</code>
              </td>
              <td>{p.branch}</td>
              <td>
                {p.build.kind === 'dockerfile'
                  ? `Dockerfile ${p.build.dockerfile}`
                  : `tarball on ${p.build.runtime}`}
              </td>
              <td>
                {[
                  p.pollSeconds ? `poll ${p.pollSeconds} s` : null,
                  p.webhook ? `${p.webhook.provider} webhook` : null,
                ]
                  .filter(Boolean)
                  .join(', ') || 'manual'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <Page
      title="Pipelines"
      actions={
        <>
          {/* A full page load: grim forwards it to Buildbot's own UI (read-only, grim's login). */}
          <a className="button" href="/buildbot/">
            Buildbot&apos;s own UI
          </a>
          <button type="button" className="button" onClick={q.reload}>
            Refresh
          </button>
        </>
      }
    >
      <section className="panel">{body}</section>
      {selected && <BuildsPanel name={selected} />}
      <BuildSettingsPanel onSaved={q.reload} />
      <BuildConfigPanel onApplied={q.reload} />
    </Page>
  );
}

function BuildsPanel({ name }: { name: string }) {
  const q = useQuery((signal) => call('listPipelineBuilds', { params: { name } }, signal), [name]);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <section className="panel" aria-label={`Builds of ${name}`}>
      <h2>Builds of {name}</h2>
      {q.error !== null && (
        <ErrorMessage error={q.error} title="Could not load the builds (is Buildbot running?)." />
      )}
      {q.data && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">State</th>
              <th scope="col">Commit</th>
              <th scope="col">Digest</th>
              <th scope="col">Worker</th>
              <th scope="col">Release</th>
              <th scope="col">Started</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {q.data.builds.map((b) => (
              <tr key={b.number}>
                <td>
                  <button type="button" className="link" onClick={() => setOpen(b.number)}>
                    {b.number}
                  </button>
                </td>
                <td>
                  <StateBadge state={b.state} />
                </td>
                <td>
                  <code>{b.commit?.slice(0, 12) ?? '-'}</code>
                </td>
                <td>
                  <code>{b.digest?.slice(0, 19) ?? '-'}</code>
                </td>
                <td>{b.worker ?? '-'}</td>
                <td>{b.release ?? '-'}</td>
                <td className="nowrap">{formatTime(b.startedAt)}</td>
                <td>{b.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open !== null && <BuildLog name={name} number={open} />}
    </section>
  );
}

function BuildLog({ name, number }: { name: string; number: number }) {
  const q = useQuery(
    (signal) => call('getPipelineBuildLog', { params: { name, number: String(number) } }, signal),
    [name, number],
  );
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the build log." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  return (
    <div>
      <h3>
        Build {number} of {name}
      </h3>
      {q.data.steps.map((s, i) => (
        <details key={i} open={s.state === 'failed'}>
          <summary>
            {s.name}: <StateBadge state={s.state} /> {s.summary}
          </summary>
          <pre className="log">{s.log}</pre>
        </details>
      ))}
    </div>
  );
}
