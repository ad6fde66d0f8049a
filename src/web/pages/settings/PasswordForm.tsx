import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

export function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState(false);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    const r = await act.run(() =>
      call('changeOwnPassword', { body: { currentPassword: current, newPassword: next } }),
    );
    if (!r) return;
    setCurrent('');
    setNext('');
    setDone(true);
  };
  return (
    <form className="stack-form" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change your password</h2>
      <label htmlFor="pw-current">Current password</label>
      <input
        id="pw-current"
        type="password"
        autoComplete="current-password"
        required
        maxLength={1024}
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
      />
      <label htmlFor="pw-new">New password (12+ characters)</label>
      <input
        id="pw-new"
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        maxLength={1024}
        value={next}
        onChange={(e) => setNext(e.target.value)}
      />
      <ErrorMessage error={act.error} title="The password was not changed." />
      {done && (
        <p className="notice" role="status">
          Password changed.
        </p>
      )}
      <div>
        <button type="submit" className="button button-primary" disabled={act.busy}>
          Change password
        </button>
      </div>
    </form>
  );
}
