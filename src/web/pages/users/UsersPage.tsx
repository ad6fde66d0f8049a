import { Page } from '../../components/Page.tsx';
import { useCan } from '../../session.tsx';
import { UsersSection } from './UsersSection.tsx';
import { TokensSection } from './TokensSection.tsx';

export function UsersPage() {
  const isAdmin = useCan('admin');
  return (
    <Page title="Users & tokens">
      {isAdmin ? (
        <UsersSection />
      ) : (
        <p className="muted">Only admins manage users. You can manage your own API tokens below.</p>
      )}
      <TokensSection />
    </Page>
  );
}
