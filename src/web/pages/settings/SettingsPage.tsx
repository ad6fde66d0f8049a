import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { byName } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { useSession } from '../../session.tsx';
import { PasswordForm } from './PasswordForm.tsx';
import { EnvironmentsSection } from './EnvironmentsSection.tsx';
import { GroupsSection } from './GroupsSection.tsx';
import { SizesSection } from './SizesSection.tsx';

function Inventory() {
  const q = useQuery(async (signal) => {
    const [e, g, n] = await Promise.all([
      call('listEnvironments', {}, signal),
      call('listGroups', {}, signal),
      call('listNodes', {}, signal),
    ]);
    return { envs: byName(e.environments), groups: byName(g.groups), nodes: byName(n.nodes) };
  }, []);
  if (q.error) return <ErrorMessage error={q.error} title="Could not load environments and groups." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  return (
    <>
      <EnvironmentsSection envs={q.data.envs} onChange={q.reload} />
      <GroupsSection groups={q.data.groups} envs={q.data.envs} nodes={q.data.nodes} onChange={q.reload} />
      <SizesSection />
    </>
  );
}

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
      <Inventory />
    </Page>
  );
}
