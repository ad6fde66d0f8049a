import type { Output } from '../../../api/route.ts';
import type { Routes } from '../../../api/index.ts';
import { formatTime } from '../../format.ts';

export type AuditEntry = Output<Routes['listAudit']>['entries'][number];

function Details({ entry }: { entry: AuditEntry }) {
  const keys = Object.keys(entry.details ?? {});
  if (keys.length === 0 && !entry.ip) return <span className="muted">—</span>;
  return (
    <details className="audit-details">
      <summary>details</summary>
      <dl>
        {entry.ip && (
          <>
            <dt>ip</dt>
            <dd>{entry.ip}</dd>
          </>
        )}
        {keys.map((k) => (
          <span key={k} className="dl-row">
            <dt>{k}</dt>
            <dd>
              {typeof entry.details[k] === 'object'
                ? JSON.stringify(entry.details[k])
                : String(entry.details[k])}
            </dd>
          </span>
        ))}
        <dt>hash</dt>
        <dd className="hash">{entry.hash}</dd>
      </dl>
    </details>
  );
}

export function AuditTable({ entries, compact }: { entries: AuditEntry[]; compact?: boolean }) {
  return (
    <table className="table audit-table">
      <caption className="visually-hidden">Audit log entries, newest first</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Outcome</th>
          {!compact && <th scope="col">Details</th>}
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.seq}>
            <td className="num">{e.seq}</td>
            <td className="nowrap">{formatTime(e.ts)}</td>
            <td>
              {e.actor} <span className="muted small">({e.actorKind})</span>
            </td>
            <td>
              <code>{e.action}</code>
            </td>
            <td>{e.target || <span className="muted">—</span>}</td>
            <td>
              <span className={`outcome outcome-${e.outcome}`}>{e.outcome}</span>
            </td>
            {!compact && (
              <td>
                <Details entry={e} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
