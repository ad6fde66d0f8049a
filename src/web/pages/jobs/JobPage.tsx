import { Page } from '../../components/Page.tsx';
import { Link } from '../../router.tsx';
import type { PageProps } from '../registry.ts';
import { JobView } from './JobView.tsx';

export function JobPage({ params }: PageProps) {
  return (
    <Page title={`Job ${params.id}`} actions={<Link to="/jobs">All jobs</Link>}>
      <div className="panel">
        <JobView id={params.id} />
      </div>
    </Page>
  );
}
