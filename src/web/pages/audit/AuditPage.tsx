import { useState } from 'react';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Page } from '../../components/Page.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { ChainStatus } from './ChainStatus.tsx';
import { AuditFilters, type AuditFilter } from './AuditFilters.tsx';
import { AuditTable } from './AuditTable.tsx';

const PAGE_SIZE = 50;

/** The audit log, newest first, with filters and paging by sequence number. */
export function AuditPage() {
  const [filter, setFilter] = useState<AuditFilter>({});
  // Cursors of the pages seen so far: [undefined] is the newest page; the last one is shown.
  const [cursors, setCursors] = useState<Array<number | undefined>>([undefined]);
  const [refresh, setRefresh] = useState(0);
  const beforeSeq = cursors[cursors.length - 1];
  const q = useQuery(
    (signal) => call('listAudit', { query: { ...filter, beforeSeq, limit: PAGE_SIZE } }, signal),
    [filter, beforeSeq, refresh],
  );
  const entries = q.data?.entries ?? [];
  const oldest = entries[entries.length - 1];
  const apply = (f: AuditFilter) => {
    setFilter(f);
    setCursors([undefined]);
  };

  return (
    <Page
      title="Audit log"
      actions={
        <button type="button" className="button" onClick={() => setRefresh((n) => n + 1)}>
          Refresh
        </button>
      }
    >
      <ChainStatus refreshKey={refresh} />
      <section className="panel">
        <AuditFilters onApply={apply} />
      </section>
      <section className="panel" aria-busy={q.loading}>
        <ErrorMessage error={q.error} title="Could not load the audit log." />
        {!q.error && !q.loading && entries.length === 0 && (
          <EmptyState title="No entries match">
            <p>Nothing in the audit log matches these filters{cursors.length > 1 ? ' on this page' : ''}.</p>
          </EmptyState>
        )}
        {entries.length > 0 && <AuditTable entries={entries} />}
        <nav className="pager" aria-label="Audit log pages">
          <button
            type="button"
            className="button"
            disabled={cursors.length === 1}
            onClick={() => setCursors([undefined])}
          >
            Newest
          </button>
          <button
            type="button"
            className="button"
            disabled={cursors.length === 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            Newer
          </button>
          <span className="muted pager-info">
            {entries.length > 0 ? `entries #${entries[0].seq} – #${oldest.seq}` : ''}
          </span>
          <button
            type="button"
            className="button"
            disabled={!oldest || entries.length < PAGE_SIZE || oldest.seq <= 1}
            onClick={() => setCursors((c) => [...c, oldest.seq])}
          >
            Older
          </button>
        </nav>
      </section>
    </Page>
  );
}
