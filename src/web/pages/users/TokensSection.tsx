import { useState } from 'react';
import { call } from '../../api.ts';
import { formatTime } from '../../format.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { CreateTokenForm } from './CreateTokenForm.tsx';
import { TokenSecret } from './TokenSecret.tsx';

export function TokensSection() {
  const isAdmin = useCan('admin');
  const q = useQuery((signal) => call('listTokens', undefined, signal), []);
  const act = useAction();
  const [fresh, setFresh] = useState<{ name: string; secret: string } | null>(null);
  const revoke = (id: string) =>
    act.run(async () => {
      await call('revokeToken', { params: { id } });
      q.reload();
    });
  const tokens = q.data?.tokens ?? [];

  return (
    <section className="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">
        Tokens let scripts and the CLI call the API.{' '}
        {isAdmin ? 'You see every user’s tokens.' : 'You see your own.'}
      </p>
      {fresh ? (
        <TokenSecret name={fresh.name} secret={fresh.secret} onDismiss={() => setFresh(null)} />
      ) : (
        <CreateTokenForm
          onCreated={(name, secret) => {
            setFresh({ name, secret });
            q.reload();
          }}
        />
      )}
      <ErrorMessage error={q.error} title="Could not load the tokens." />
      <ErrorMessage error={act.error} title="The token was not revoked." />
      {q.data && tokens.length === 0 && (
        <EmptyState title="No API tokens yet">
          <p>Create one above; its secret is shown once.</p>
        </EmptyState>
      )}
      {tokens.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">API tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              {isAdmin && <th scope="col">Owner</th>}
              <th scope="col">Role</th>
              <th scope="col">Starts with</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                {isAdmin && <td>{t.username}</td>}
                <td>
                  <span className={`role-badge role-${t.role}`}>{t.role}</span>
                </td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td className="nowrap">{formatTime(t.createdAt)}</td>
                <td className="nowrap">{t.expiresAt ? formatTime(t.expiresAt) : 'never'}</td>
                <td className="nowrap">{formatTime(t.lastUsedAt)}</td>
                <td className="row-actions">
                  {t.revokedAt ? (
                    <span className="outcome outcome-denied">revoked</span>
                  ) : (
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke token ${t.name}?`}
                      danger
                      busy={act.busy}
                      onConfirm={() => revoke(t.id).then(() => undefined)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
