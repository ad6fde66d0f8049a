import { call } from '../../api.ts';
import { formatTime } from '../../format.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { useSession } from '../../session.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { CreateUserForm } from './CreateUserForm.tsx';

/** Users: admins only (the page leaves this section out for other roles). */
export function UsersSection() {
  const { user: me } = useSession();
  const q = useQuery((signal) => call('listUsers', undefined, signal), []);
  const act = useAction();
  const setDisabled = (id: string, disabled: boolean) =>
    act.run(async () => {
      await call('updateUser', { params: { id }, body: { disabled } });
      q.reload();
    });
  const remove = (id: string) =>
    act.run(async () => {
      await call('deleteUser', { params: { id } });
      q.reload();
    });

  return (
    <section className="panel" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <CreateUserForm onCreated={q.reload} />
      <ErrorMessage error={q.error} title="Could not load the users." />
      <ErrorMessage error={act.error} title="That change was not made." />
      {q.data && (
        <table className="table">
          <caption className="visually-hidden">Users</caption>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data.users.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>
                  <span className={`role-badge role-${u.role}`}>{u.role}</span>
                </td>
                <td>{u.disabled ? <span className="outcome outcome-denied">disabled</span> : 'active'}</td>
                <td className="nowrap">{formatTime(u.createdAt)}</td>
                <td className="row-actions">
                  {u.id !== me.userId && (
                    <>
                      <button
                        type="button"
                        className="button"
                        disabled={act.busy}
                        aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`}
                        onClick={() => setDisabled(u.id, !u.disabled)}
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                      <ConfirmButton
                        label="Delete"
                        question={`Delete user ${u.username} and their tokens?`}
                        danger
                        busy={act.busy}
                        onConfirm={() => remove(u.id).then(() => undefined)}
                      />
                    </>
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
