import { Page } from '../../components/Page.tsx';
import { useSession } from '../../session.tsx';
import { PasswordForm } from './PasswordForm.tsx';

export function SettingsPage() {
  const { user } = useSession();
  return (
    <Page title="Settings">
      <section className="panel" aria-labelledby="account-title">
        <h2 id="account-title">Your account</h2>
        <dl className="facts">
          <dt>Username</dt>
          <dd>{user.username}</dd>
          <dt>Role</dt>
          <dd>
            <span className={`role-badge role-${user.role}`}>{user.role}</span>
          </dd>
          <dt>Signed in with</dt>
          <dd>{user.via === 'session' ? 'password (browser session)' : 'API token'}</dd>
        </dl>
      </section>
      <section className="panel">
        <PasswordForm />
      </section>
    </Page>
  );
}
