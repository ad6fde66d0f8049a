import { Page } from '../../components/Page.tsx';
import { OptionalList } from '../../components/OptionalList.tsx';

export function JobsPage() {
  return (
    <Page title="Jobs">
      <section className="panel">
        <OptionalList
          operation="listJobs"
          listKey="jobs"
          columns={[
            { key: 'id', label: 'Job' },
            { key: 'kind', label: 'Kind' },
            { key: 'target', label: 'Target' },
            { key: 'status', label: 'Status' },
            { key: 'startedAt', label: 'Started' },
            { key: 'finishedAt', label: 'Finished' },
          ]}
          caption="Jobs"
          emptyTitle="No jobs yet"
          empty={
            <p>
              Every command run and deployment becomes a job, with its output and outcome. None has run yet.
            </p>
          }
        />
      </section>
    </Page>
  );
}
