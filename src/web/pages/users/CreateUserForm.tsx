import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import type { Role } from '../../../domain/roles.ts';

export function CreateUserForm({ onCreated }: { onCreated(): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() => call('createUser', { body: { username, password, role } }));
    if (!r) return;
    setUsername('');
    setPassword('');
    setRole('viewer');
    onCreated();
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a user">
      <div className="field">
        <label htmlFor="new-user-name">Username</label>
        <input
          id="new-user-name"
          required
          maxLength={64}
          autoComplete="off"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="new-user-password">Password (12+ characters)</label>
        <input
          id="new-user-password"
          type="password"
          required
          autoComplete="new-password"
          maxLength={1024}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="new-user-role">Role</label>
        <select id="new-user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <option value="viewer">viewer</option>
          <option value="operator">operator</option>
          <option value="admin">admin</option>
        </select>
      </div>
      <div className="field field-buttons">
        <button type="submit" className="button button-primary" disabled={act.busy}>
          Create user
        </button>
      </div>
      <ErrorMessage error={act.error} title="The user was not created." />
    </form>
  );
}
