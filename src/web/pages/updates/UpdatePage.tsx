import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { TargetPicker, targetBody, targetIsEmpty } from '../../components/TargetPicker.tsx';
import type { Target, UpdatePlan } from '../../types.ts';
import { JobView } from '../jobs/JobView.tsx';

/**
 * Rolling OS update: pick the nodes, read the plan (order and the exact script) and only then run it;
 * progress per node streams in below.
 */
export function UpdatePage() {
  const isOperator = useCan('operator');
  const [target, setTarget] = useState<Target>({});
  const [parallel, setParallel] = useState('1');
  const [reboot, setReboot] = useState(false);
  const [plan, setPlan] = useState<{ plan: UpdatePlan; body: string } | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const act = useAction();
  if (!isOperator)
    return (
      <Page title="Rolling OS update">
        <p className="notice">Only operators and admins update nodes.</p>
      </Page>
    );
  const body = { target: targetBody(target), parallel: Number(parallel), reboot };
  const key = JSON.stringify(body);
  const current = plan && plan.body === key ? plan.plan : null;

  return (
    <Page title="Rolling OS update" actions={<Link to="/nodes">All nodes</Link>}>
      <section className="panel" aria-labelledby="upd-target">
        <h2 id="upd-target">1. Which nodes</h2>
        <TargetPicker idPrefix="upd" value={target} onChange={setTarget} />
        <div className="inline-form">
          <div className="field field-narrow">
            <label htmlFor="upd-parallel">Nodes at a time</label>
            <input
              id="upd-parallel"
              type="number"
              min={1}
              max={100}
              value={parallel}
              onChange={(e) => setParallel(e.target.value)}
            />
          </div>
          <label className="check">
            <input type="checkbox" checked={reboot} onChange={(e) => setReboot(e.target.checked)} />
            <span>Reboot each node when its update needs it</span>
          </label>
          <div className="field field-buttons">
            <button
              type="button"
              className="button button-primary"
              disabled={act.busy || targetIsEmpty(target)}
              onClick={async () => {
                setJobId(null);
                const r = await act.run(() => call('planUpdate', { body }));
                if (r) setPlan({ plan: r, body: key });
              }}
            >
              Show the plan
            </button>
          </div>
        </div>
        <ErrorMessage error={act.error} title="The update could not be planned or started." />
      </section>
      {current && (
        <section className="panel" aria-labelledby="upd-plan">
          <h2 id="upd-plan">2. The plan</h2>
          <p>
            {current.nodes.length} node{current.nodes.length === 1 ? '' : 's'}, {current.parallel} at a time,
            in this order; the update stops at the first failure.
          </p>
          <ol className="plan-nodes">
            {current.nodes.map((n) => (
              <li key={n.name}>
                {n.name} <span className="muted">({n.os || 'unknown OS'})</span>
              </li>
            ))}
          </ol>
          <h3>The script each node runs</h3>
          {Object.keys(current.env).length > 0 && (
            <p className="small">
              With{' '}
              {Object.entries(current.env).map(([k, v]) => (
                <code key={k} className="label">
                  {k}={v}
                </code>
              ))}
            </p>
          )}
          <pre className="script" aria-label="Update script">
            {current.script}
          </pre>
          <button
            type="button"
            className="button button-danger"
            disabled={act.busy || jobId !== null}
            onClick={async () => {
              const r = await act.run(() => call('createUpdate', { body }));
              if (r) setJobId(r.job.id);
            }}
          >
            Run the update on {current.nodes.length} node{current.nodes.length === 1 ? '' : 's'}
          </button>
        </section>
      )}
      {jobId && (
        <section className="panel" aria-labelledby="upd-progress">
          <h2 id="upd-progress">3. Progress</h2>
          <JobView id={jobId} link />
        </section>
      )}
    </Page>
  );
}
