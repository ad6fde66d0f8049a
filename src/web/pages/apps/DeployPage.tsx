import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { Link, navigate } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { byName, formatBytes, formatCpu } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { OvercommitWarning, heldNodes } from './OvercommitWarning.tsx';
import { PlacementPreview } from './PlacementPreview.tsx';

/**
 * Define an app and deploy it. When the server holds the deploy because nodes would be overcommitted,
 * its per-node numbers show and nothing runs until the operator accepts.
 */
/** "name:size:mount[:kind]" lines; the server checks every field and lists every problem. */
function volumeLines(text: string) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name = '', size = '', mount = '', kind] = l.split(':');
      return { name, size, mount, ...(kind ? { kind: kind as 'local' | 'shared' } : {}) };
    });
}

export function DeployPage() {
  const isOperator = useCan('operator');
  const q = useQuery(async (signal) => {
    const [e, g, s] = await Promise.all([
      call('listEnvironments', {}, signal),
      call('listGroups', {}, signal),
      call('listSizes', {}, signal),
    ]);
    return { envs: byName(e.environments), groups: byName(g.groups), sizes: s.sizes };
  }, []);
  const [name, setName] = useState('');
  const [env, setEnv] = useState('');
  const [group, setGroup] = useState('');
  const [runtime, setRuntime] = useState<'script' | 'container'>('script');
  const [start, setStart] = useState('');
  const [image, setImage] = useState('');
  const [size, setSize] = useState('');
  const [replicas, setReplicas] = useState('1');
  const [volumes, setVolumes] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [accepted, setAccepted] = useState(false);
  const act = useAction();
  if (!isOperator)
    return (
      <Page title="Deploy an app">
        <p className="notice">Only operators and admins deploy apps.</p>
      </Page>
    );
  if (q.error) return <ErrorMessage error={q.error} title="Could not load environments, groups and sizes." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  const chosenEnv = env || q.data.envs[0]?.name || '';
  const groups = q.data.groups.filter((g) => g.environment === chosenEnv);
  const chosenGroup = groups.some((g) => g.name === group) ? group : (groups[0]?.name ?? '');
  const chosenSize = size || q.data.sizes[0]?.name || '';
  const held = heldNodes(act.error);

  const deploy = async (e?: FormEvent) => {
    e?.preventDefault();
    const r = await act.run(async () => {
      let app = created;
      if (!app) {
        const c = await call('createApp', {
          body: {
            name: name.trim(),
            environment: chosenEnv,
            group: chosenGroup,
            runtime,
            replicas: Number(replicas),
            ...(chosenSize ? { size: chosenSize } : {}),
            source: runtime === 'script' ? { kind: 'script', start } : { kind: 'image', image: image.trim() },
            ...(volumes.trim() ? { volumes: volumeLines(volumes) } : {}),
          },
        });
        app = c.app.name;
        setCreated(app);
      }
      return {
        app,
        started: await call('deployApp', { params: { name: app }, body: { acceptOvercommit: accepted } }),
      };
    });
    if (r) navigate(`/apps/${r.app}`);
  };

  return (
    <Page title="Deploy an app" actions={<Link to="/apps">All apps</Link>}>
      <form className="panel stack-form deploy-form" onSubmit={deploy} aria-label="Deploy an app">
        <div className="field">
          <label htmlFor="app-name">App name</label>
          <input
            id="app-name"
            required
            maxLength={32}
            disabled={!!created}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="app-env">Environment</label>
          <select
            id="app-env"
            disabled={!!created}
            value={chosenEnv}
            onChange={(e) => setEnv(e.target.value)}
          >
            {q.data.envs.map((x) => (
              <option key={x.name}>{x.name}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="app-group">Runs on group</label>
          <select
            id="app-group"
            disabled={!!created}
            value={chosenGroup}
            onChange={(e) => setGroup(e.target.value)}
          >
            {groups.map((x) => (
              <option key={x.name} value={x.name}>
                {x.name} ({x.nodes.length} nodes)
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="app-size">Size</label>
          <select
            id="app-size"
            disabled={!!created}
            value={chosenSize}
            onChange={(e) => setSize(e.target.value)}
          >
            {q.data.sizes.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}: {formatCpu(s.cpuMillis)}, {formatBytes(s.memoryBytes)}, disk{' '}
                {formatBytes(s.diskBytes)}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-narrow">
          <label htmlFor="app-replicas">Instances</label>
          <input
            id="app-replicas"
            type="number"
            min={0}
            max={10000}
            disabled={!!created}
            value={replicas}
            onChange={(e) => setReplicas(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="app-runtime">Runtime</label>
          <select
            id="app-runtime"
            disabled={!!created}
            value={runtime}
            onChange={(e) => setRuntime(e.target.value as 'script' | 'container')}
          >
            <option value="script">script (a supervised process)</option>
            <option value="container">container (an OCI image)</option>
          </select>
        </div>
        {runtime === 'script' ? (
          <div className="field">
            <label htmlFor="app-start">Start command</label>
            <textarea
              id="app-start"
              required
              rows={3}
              disabled={!!created}
              spellCheck={false}
              value={start}
              onChange={(e) => setStart(e.target.value)}
            />
          </div>
        ) : (
          <div className="field">
            <label htmlFor="app-image">Image</label>
            <input
              id="app-image"
              required
              disabled={!!created}
              value={image}
              onChange={(e) => setImage(e.target.value)}
            />
          </div>
        )}
        <div className="field">
          <label htmlFor="app-volumes">Volumes</label>
          <textarea
            id="app-volumes"
            rows={2}
            disabled={!!created}
            spellCheck={false}
            placeholder="data:10Gi:/var/lib/app"
            value={volumes}
            onChange={(e) => setVolumes(e.target.value)}
          />
          <p className="muted small">
            One per line: name:size:mount, or name:size:mount:shared for a volume every replica shares.
          </p>
        </div>
        <PlacementPreview
          app={name.trim()}
          group={groups.find((g) => g.name === chosenGroup)}
          size={q.data.sizes.find((s) => s.name === chosenSize)}
          replicas={Number(replicas) || 0}
        />
        <p className="muted small">
          The server plans again when you deploy; if a node would be overcommitted, the deploy is held and its
          numbers show here before anything runs.
        </p>
        {!held && <ErrorMessage error={act.error} title="The app was not deployed." />}
        <div className="field-buttons">
          <button
            type="submit"
            className="button button-primary"
            disabled={act.busy || (!!held && !accepted)}
          >
            {held ? 'Deploy, accepting the overcommit' : 'Deploy'}
          </button>
        </div>
      </form>
      <OvercommitWarning error={act.error} accepted={accepted} onAccept={setAccepted} />
    </Page>
  );
}
