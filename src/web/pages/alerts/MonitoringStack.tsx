import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

type Plan = Awaited<ReturnType<typeof call<'planMonitoring'>>>;

/**
 * The monitoring stack grim deploys (Cortex, Loki, Tempo, Grafana): each environment's stack with a link to
 * its Grafana, and for admins the enable form: preview every generated file first, then enable.
 */
export function MonitoringStack() {
  const stacks = useQuery(async (signal) => (await call('listMonitoringStacks', {}, signal)).stacks, []);
  const isAdmin = useCan('admin');
  const act = useAction();
  const [group, setGroup] = useState('');
  const [plan, setPlan] = useState<Plan | null>(null);
  const preview = () => act.run(async () => setPlan(await call('planMonitoring', { body: { group } })));
  const enable = () =>
    act.run(async () => {
      setPlan(await call('enableMonitoring', { body: { group } }));
      stacks.reload();
    });
  return (
    <section className="panel" aria-labelledby="mon-stack">
      <h2 id="mon-stack">Monitoring stack</h2>
      <ErrorMessage error={stacks.error} title="Could not load the monitoring stacks." />
      {stacks.data && stacks.data.length === 0 && (
        <p className="muted">Not enabled: grim monitoring enable --group G, or below.</p>
      )}
      {stacks.data && stacks.data.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Monitoring stacks</caption>
          <thead>
            <tr>
              <th scope="col">Environment</th>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col">Versions</th>
              <th scope="col">Storage</th>
              <th scope="col">Grafana</th>
            </tr>
          </thead>
          <tbody>
            {stacks.data.map((s) => (
              <tr key={s.environment} data-stack={s.environment}>
                <td>{s.environment}</td>
                <td>{s.node}</td>
                <td>
                  <StateBadge state={s.state} title={s.stateReason} />
                </td>
                <td>
                  {Object.entries(s.versions)
                    .map(([c, v]) => `${c} ${v}`)
                    .join(', ')}
                </td>
                <td>{s.storage === 's3' ? 'SeaweedFS buckets' : 'node directories'}</td>
                <td>
                  {s.endpoints.grafanaUrl ? (
                    <>
                      <a href={s.endpoints.grafanaUrl} target="_blank" rel="noreferrer">
                        Grafana
                      </a>{' '}
                      ·{' '}
                      <a href={`${s.endpoints.grafanaUrl}/d/grim-fleet`} target="_blank" rel="noreferrer">
                        Fleet dashboard
                      </a>{' '}
                      ·{' '}
                      <a href={`${s.endpoints.grafanaUrl}/explore`} target="_blank" rel="noreferrer">
                        Explore
                      </a>
                    </>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isAdmin && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void preview();
          }}
        >
          <label>
            Node group <input value={group} onChange={(e) => setGroup(e.target.value)} name="group" />
          </label>{' '}
          <button type="submit" disabled={act.busy || !group}>
            Preview
          </button>{' '}
          <button type="button" disabled={act.busy || !plan} onClick={() => void enable()}>
            Enable
          </button>
        </form>
      )}
      <ErrorMessage error={act.error} title="Monitoring" />
      {plan && (
        <div aria-label="Monitoring plan">
          <p>
            {plan.environment} on {plan.plan.node} ({plan.plan.address}): remote write →{' '}
            {plan.plan.endpoints.remoteWriteUrl ?? '—'}, logs → {plan.plan.endpoints.lokiUrl ?? '—'}, traces →{' '}
            {plan.plan.endpoints.otlpEndpoint ?? '—'}
          </p>
          {plan.plan.components.map((c) =>
            c.files.map((f) => (
              <details key={`${c.component}/${f.name}`}>
                <summary>
                  {c.component}: {f.name}
                </summary>
                <pre>{f.content}</pre>
              </details>
            )),
          )}
        </div>
      )}
    </section>
  );
}
