import { Page } from '../../components/Page.tsx';
import { Link, usePath } from '../../router.tsx';

export function NotFoundPage() {
  const path = usePath();
  return (
    <Page title="Page not found">
      <p>
        There is no page at <code>{path}</code>. Go to the <Link to="/">overview</Link>.
      </p>
    </Page>
  );
}
