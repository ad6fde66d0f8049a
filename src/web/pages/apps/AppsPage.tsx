import { Page } from '../../components/Page.tsx';
import { OptionalList } from '../../components/OptionalList.tsx';

export function AppsPage() {
  return (
    <Page title="Apps">
      <section className="panel">
        <OptionalList
          operation="listApps"
          listKey="apps"
          columns={[
            { key: 'name', label: 'Name' },
            { key: 'image', label: 'Image' },
            { key: 'node', label: 'Node' },
            { key: 'status', label: 'Status' },
            { key: 'createdAt', label: 'Created' },
          ]}
          caption="Apps"
          emptyTitle="No apps deployed yet"
          empty={
            <p>
              Apps run on your nodes. Once a node is added, deploy an app to it from here or with the CLI.
            </p>
          }
        />
      </section>
    </Page>
  );
}
