import { useState, type FormEvent } from 'react';

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: 'success' | 'failure' | 'denied';
}

/** Filter form: applied on submit (Enter in any field), cleared with Reset. */
export function AuditFilters({ onApply }: { onApply(f: AuditFilter): void }) {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [outcome, setOutcome] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({
      actor: actor.trim() || undefined,
      action: action.trim() || undefined,
      target: target.trim() || undefined,
      outcome: (outcome || undefined) as AuditFilter['outcome'],
    });
  };
  const reset = () => {
    setActor('');
    setAction('');
    setTarget('');
    setOutcome('');
    onApply({});
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter the audit log">
      <div className="field">
        <label htmlFor="audit-actor">Actor</label>
        <input id="audit-actor" maxLength={64} value={actor} onChange={(e) => setActor(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="audit-action">Action</label>
        <input id="audit-action" maxLength={128} value={action} onChange={(e) => setAction(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="audit-target">Target</label>
        <input id="audit-target" maxLength={256} value={target} onChange={(e) => setTarget(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="audit-outcome">Outcome</label>
        <select id="audit-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="">any</option>
          <option value="success">success</option>
          <option value="failure">failure</option>
          <option value="denied">denied</option>
        </select>
      </div>
      <div className="field field-buttons">
        <button type="submit" className="button button-primary">
          Apply filters
        </button>
        <button type="button" className="button button-quiet" onClick={reset}>
          Reset
        </button>
      </div>
    </form>
  );
}
