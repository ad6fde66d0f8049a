import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { TargetPicker, targetBody, targetIsEmpty } from '../../components/TargetPicker.tsx';
import type { Target } from '../../types.ts';
import { JobView } from '../jobs/JobView.tsx';

/** Run a shell command on nodes, groups or a selector and watch each node's output as it comes. */
export function RunPage() {
  const isOperator = useCan('operator');
  const [target, setTarget] = useState<Target>({});
  const [command, setCommand] = useState('');
  const [timeout, setTimeoutSec] = useState('300');
  const [jobs, setJobs] = useState<string[]>([]);
  const act = useAction();
  if (!isOperator)
    return (
      <Page title="Run">
        <p className="notice">Only operators and admins run commands. Past runs are listed under Jobs.</p>
      </Page>
    );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      call('createRun', { body: { target: targetBody(target), command, timeoutSec: Number(timeout) } }),
    );
    if (r) setJobs((j) => [r.job.id, ...j]);
  };
  return (
    <Page title="Run">
      <p className="lead">
        Commands run over SSH (with /bin/sh) on the nodes you pick; each run becomes a job.
      </p>
      <form className="panel" onSubmit={submit} aria-label="Run a command">
        <h2>Targets</h2>
        <TargetPicker idPrefix="run" value={target} onChange={setTarget} />
        <div className="field">
          <label htmlFor="run-command">Command</label>
          <textarea
            id="run-command"
            required
            rows={3}
            spellCheck={false}
            maxLength={65536}
            value={command}
            onChange={(e) => setCommand(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
            }}
          />
        </div>
        <div className="inline-form">
          <div className="field field-narrow">
            <label htmlFor="run-timeout">Timeout (s)</label>
            <input
              id="run-timeout"
              type="number"
              min={1}
              max={86400}
              value={timeout}
              onChange={(e) => setTimeoutSec(e.target.value)}
            />
          </div>
          <div className="field field-buttons">
            <button
              type="submit"
              className="button button-primary"
              disabled={act.busy || targetIsEmpty(target)}
            >
              Run
            </button>
          </div>
        </div>
        <ErrorMessage error={act.error} title="The command was not started." />
      </form>
      {jobs.map((id) => (
        <div className="panel" key={id}>
          <JobView id={id} link />
        </div>
      ))}
    </Page>
  );
}
