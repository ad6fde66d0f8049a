import type { ReactNode } from 'react';
import { callOptional } from '../api.ts';
import { formatTime } from '../format.ts';
import { useQuery } from '../use-query.ts';
import { EmptyState } from './EmptyState.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';

export interface Column {
  key: string;
  label: string;
}

interface Props {
  /** Operation id in the route table, e.g. 'listNodes'; while the API lacks it, the empty state shows. */
  operation: string;
  /** Key of the array in the answer, e.g. 'nodes'. */
  listKey: string;
  /** Columns to show, in order; those no row has are left out. */
  columns: Column[];
  caption: string;
  emptyTitle: string;
  empty: ReactNode;
}

type Row = Record<string, unknown>;

function cell(key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number' && /At$|^ts$/.test(key)) return formatTime(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A table of a resource whose list operation may not exist yet in this build's API. */
export function OptionalList({ operation, listKey, columns, caption, emptyTitle, empty }: Props) {
  const q = useQuery(
    async (signal) => {
      const r = (await callOptional(operation, {}, signal)) as Record<string, unknown> | undefined;
      const list = r?.[listKey];
      return Array.isArray(list) ? (list as Row[]) : [];
    },
    [operation, listKey],
  );

  if (q.error) return <ErrorMessage error={q.error} title={`Could not load ${caption.toLowerCase()}.`} />;
  if (q.loading && !q.data) return <p className="muted">Loading…</p>;
  const rows = q.data ?? [];
  if (rows.length === 0) return <EmptyState title={emptyTitle}>{empty}</EmptyState>;
  const shown = columns.filter((c) => rows.some((r) => r[c.key] !== undefined));
  return (
    <table className="table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {shown.map((c) => (
            <th key={c.key} scope="col">
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={String(r.id ?? r.name ?? i)}>
            {shown.map((c) => (
              <td key={c.key}>{cell(c.key, r[c.key])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
