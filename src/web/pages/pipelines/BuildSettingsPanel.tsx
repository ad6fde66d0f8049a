import { useEffect, useState } from 'react';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

type Storage = 'directory' | 'volume' | 's3';

/** Build settings: which nodes run Buildbot workers, where the build registry keeps its images. */
export function BuildSettingsPanel({ onSaved }: { onSaved: () => void }) {
  const q = useQuery(async (signal) => {
    const [s, n, c] = await Promise.all([
      call('getBuildSettings', undefined, signal),
      call('listNodes', {}, signal),
      call('listStorageClusters', {}, signal),
    ]);
    return {
      settings: s.settings,
      nodes: n.nodes.map((x) => x.name),
      clusters: c.clusters.map((x) => x.environment),
    };
  }, []);
  const [workers, setWorkers] = useState<string[]>([]);
  const [storage, setStorage] = useState<Storage>('directory');
  const [environment, setEnvironment] = useState('');
  const [bucket, setBucket] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!q.data) return;
    const s = q.data.settings;
    setWorkers(s.workerNodes);
    setStorage(s.registryStorage.kind);
    if (s.registryStorage.kind === 's3') {
      setEnvironment(s.registryStorage.environment);
      setBucket(s.registryStorage.bucket);
    } else setEnvironment(q.data.clusters[0] ?? '');
  }, [q.data]);
  const save = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const registryStorage = storage === 's3' ? { kind: storage, environment, bucket } : { kind: storage };
      const r = await call('putBuildSettings', { body: { workerNodes: workers, registryStorage } });
      setResult(
        r.applied
          ? 'Saved and applied: Buildbot runs with these settings.'
          : 'Saved: applied with the next configuration apply.',
      );
      q.reload();
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const toggle = (node: string, on: boolean) =>
    setWorkers((w) => (on ? [...w.filter((x) => x !== node), node] : w.filter((x) => x !== node)));
  return (
    <section className="panel" aria-label="Build settings">
      <h2>Build settings</h2>
      {q.error !== null && <ErrorMessage error={q.error} title="Could not load the build settings." />}
      {q.data && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <fieldset>
            <legend>Buildbot worker nodes (image builds run there; none: grim&apos;s own worker)</legend>
            {q.data.nodes.map((n) => (
              <label key={n} className="checkbox">
                <input
                  type="checkbox"
                  checked={workers.includes(n)}
                  onChange={(e) => toggle(n, e.target.checked)}
                />{' '}
                {n}
              </label>
            ))}
          </fieldset>
          <label>
            Registry storage{' '}
            <select value={storage} onChange={(e) => setStorage(e.target.value as Storage)}>
              <option value="directory">a directory on the control node</option>
              <option value="volume">a volume on the control node (snapshots)</option>
              <option value="s3">an S3 bucket on a SeaweedFS cluster</option>
            </select>
          </label>
          {storage === 's3' && (
            <>
              <label>
                Environment{' '}
                <select value={environment} onChange={(e) => setEnvironment(e.target.value)}>
                  {q.data.clusters.map((c) => (
                    <option key={c}>{c}</option>
                  ))}
                </select>
              </label>
              <label>
                Bucket <input value={bucket} onChange={(e) => setBucket(e.target.value)} />
              </label>
            </>
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save build settings'}
          </button>
        </form>
      )}
      {result && <p role="status">{result}</p>}
      {error !== null && <ErrorMessage error={error} title="The build settings were not saved." />}
    </section>
  );
}
