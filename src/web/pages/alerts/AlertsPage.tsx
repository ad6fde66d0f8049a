import { useEffect } from 'react';
import type { Static } from 'typebox';
import type { AlertView } from '../../../api/routes/alerts.ts';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { MonitoringStack } from './MonitoringStack.tsx';

type Alert = Static<typeof AlertView>;

/** Labels that say where the problem is (the rest are shown on hover). */
const WHERE = ['node', 'pool', 'app', 'instance', 'environment', 'volume'];
/** `instance` names an app instance only on app alerts; elsewhere it is Prometheus's scrape target. */
const where = (labels: Record<string, string>) =>
  WHERE.filter((k) => labels[k] && (k !== 'instance' || labels.app))
    .map((k) => `${k} ${labels[k]}`)
    .join(', ') || '-';

function AlertRows({ alerts, resolved }: { alerts: Alert[]; resolved: boolean }) {
  return (
    <table className="table">
      <caption className="visually-hidden">{resolved ? 'Resolved alerts' : 'Firing alerts'}</caption>
      <thead>
        <tr>
          <th scope="col">Alert</th>
          <th scope="col">Severity</th>
          <th scope="col">Where</th>
          <th scope="col">Summary</th>
          <th scope="col">Since</th>
          {resolved && <th scope="col">Resolved</th>}
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr key={a.fingerprint} data-alert={a.name} data-status={a.status}>
            <td title={a.annotations.description ?? ''}>{a.name}</td>
            <td>
              <span className={`state state-${a.severity === 'critical' ? 'failed' : 'pending'}`}>
                {a.severity || 'none'}
              </span>
            </td>
            <td title={JSON.stringify(a.labels)}>{where(a.labels)}</td>
            <td>{a.annotations.summary ?? ''}</td>
            <td>{formatTime(a.startsAt)}</td>
            {resolved && <td>{formatTime(a.endsAt)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Alerts Alertmanager reported to grim's webhook: firing ones first, then recently resolved ones. Refreshes
 * every 5 s, so an alert appears and resolves without a reload.
 */
export function AlertsPage() {
  const firing = useQuery((signal) => call('listAlerts', { query: { status: 'firing' } }, signal), []);
  const resolved = useQuery((signal) => call('listAlerts', { query: { status: 'resolved' } }, signal), []);
  const { reload: reloadFiring } = firing;
  const { reload: reloadResolved } = resolved;
  useEffect(() => {
    const timer = setInterval(() => {
      reloadFiring();
      reloadResolved();
    }, 5000);
    return () => clearInterval(timer);
  }, [reloadFiring, reloadResolved]);
  const error = firing.error ?? resolved.error;
  return (
    <Page title="Alerts">
      <ErrorMessage error={error} title="Could not load the alerts." />
      <section className="panel" aria-label="Firing" aria-busy={!firing.data}>
        <h2>Firing</h2>
        {firing.data && firing.data.alerts.length === 0 && (
          <EmptyState title="Nothing is firing">
            <p>
              Alerts come from Alertmanager through grim&apos;s webhook (<code>POST /api/alerts/webhook</code>
              , an operator token); grim generates its configuration and the rules.
            </p>
          </EmptyState>
        )}
        {firing.data && firing.data.alerts.length > 0 && (
          <AlertRows alerts={firing.data.alerts} resolved={false} />
        )}
      </section>
      <section className="panel" aria-label="Resolved" aria-busy={!resolved.data}>
        <h2>Recently resolved</h2>
        {resolved.data && resolved.data.alerts.length === 0 && <p className="muted">None.</p>}
        {resolved.data && resolved.data.alerts.length > 0 && (
          <AlertRows alerts={resolved.data.alerts} resolved={true} />
        )}
      </section>
      <MonitoringStack />
    </Page>
  );
}
