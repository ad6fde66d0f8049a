import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { useSession } from '../../session.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { ROLES, roleAtLeast, type Role } from '../../../domain/roles.ts';

interface Props {
  onCreated(name: string, secret: string): void;
}

/** Any user may create tokens for themselves, up to their own role. */
export function CreateTokenForm({ onCreated }: Props) {
  const { user } = useSession();
  // deployer tokens belong to pipelines (they need an app scope): grim creates them
  const roles = ROLES.filter((r) => r !== 'deployer' && roleAtLeast(user.role, r));
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [days, setDays] = useState('90');
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const expiresInDays = days === '' ? undefined : Number(days);
    const r = await act.run(() => call('createToken', { body: { name, role, expiresInDays } }));
    if (!r) return;
    setName('');
    onCreated(r.token.name, r.secret);
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create an API token">
      <div className="field">
        <label htmlFor="new-token-name">Token name</label>
        <input
          id="new-token-name"
          required
          maxLength={64}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="new-token-role">Role</label>
        <select id="new-token-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="new-token-days">Expires after</label>
        <select id="new-token-days" value={days} onChange={(e) => setDays(e.target.value)}>
          <option value="7">7 days</option>
          <option value="30">30 days</option>
          <option value="90">90 days</option>
          <option value="365">1 year</option>
          <option value="">never</option>
        </select>
      </div>
      <div className="field field-buttons">
        <button type="submit" className="button button-primary" disabled={act.busy}>
          Create token
        </button>
      </div>
      <ErrorMessage error={act.error} title="The token was not created." />
    </form>
  );
}
