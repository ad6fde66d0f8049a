import { useState } from 'react';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

/** Buildbot's master.cfg as grim generates it, shown before it is applied; Apply runs checkconfig, then reloads. */
export function BuildConfigPanel({ onApplied }: { onApplied: () => void }) {
  const q = useQuery((signal) => call('getBuildConfig', undefined, signal), []);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const apply = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await call('applyBuildConfig');
      setResult(
        r.started ? 'Buildbot started with this configuration.' : 'Buildbot reloaded (running builds go on).',
      );
      q.reload();
      onApplied();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-label="Buildbot configuration">
      <h2>Buildbot configuration (master.cfg)</h2>
      {q.error !== null && <ErrorMessage error={q.error} title="Could not load the configuration." />}
      {q.data && (
        <>
          <p>
            {q.data.pending
              ? 'The pipelines changed since the last apply: this is what Buildbot will run.'
              : 'This is the configuration Buildbot runs now.'}
          </p>
          <pre className="log" aria-label="generated master.cfg">
            {q.data.generated}
          </pre>
          <button type="button" onClick={apply} disabled={busy || !q.data.pending}>
            {busy ? 'Checking and applying…' : 'Check with buildbot checkconfig and apply'}
          </button>
        </>
      )}
      {result && <p role="status">{result}</p>}
      {error !== null && <ErrorMessage error={error} title="Buildbot refused the configuration." />}
    </section>
  );
}
