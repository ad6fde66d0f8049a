import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

/** The audit hash chain's verification, stated plainly: intact, or where it breaks. */
export function ChainStatus({ refreshKey }: { refreshKey?: unknown }) {
  const q = useQuery((signal) => call('verifyAudit', undefined, signal), [refreshKey]);
  if (q.error) return <ErrorMessage error={q.error} title="Could not verify the audit chain." />;
  if (!q.data) return <p className="chain chain-checking">Verifying the audit chain…</p>;
  const v = q.data;
  if (v.ok)
    return (
      <p className="chain chain-ok" role="status" data-chain="intact">
        <strong>Audit chain intact</strong> — {v.checked} entries verified.
      </p>
    );
  return (
    <div className="chain chain-broken" role="alert" data-chain="broken">
      <strong>Audit chain broken</strong>
      {v.firstBroken ? (
        <span>
          {' '}
          at entry #{v.firstBroken.seq}: {v.firstBroken.reason}. Entries from there on cannot be trusted.
        </span>
      ) : (
        <span> ({v.checked} entries checked).</span>
      )}
    </div>
  );
}
