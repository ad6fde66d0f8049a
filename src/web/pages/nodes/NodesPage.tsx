import { Page } from '../../components/Page.tsx';
import { OptionalList } from '../../components/OptionalList.tsx';
import { NoNodes, NO_NODES_TITLE } from './NoNodes.tsx';
import { NODE_COLUMNS } from './node-columns.ts';

export function NodesPage() {
  return (
    <Page title="Nodes">
      <section className="panel">
        <OptionalList
          operation="listNodes"
          listKey="nodes"
          columns={NODE_COLUMNS}
          caption="Nodes"
          emptyTitle={NO_NODES_TITLE}
          empty={<NoNodes />}
        />
      </section>
    </Page>
  );
}
