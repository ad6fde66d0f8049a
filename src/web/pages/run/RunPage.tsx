import { Page } from '../../components/Page.tsx';
import { OptionalList } from '../../components/OptionalList.tsx';
import { NoNodes, NO_NODES_TITLE } from '../nodes/NoNodes.tsx';
import { NODE_COLUMNS } from '../nodes/node-columns.ts';

/** Run commands on nodes: lists the nodes a command can target. */
export function RunPage() {
  return (
    <Page title="Run">
      <p className="lead">Commands run over SSH on the nodes you pick; each run becomes a job.</p>
      <section className="panel" aria-labelledby="run-targets">
        <h2 id="run-targets">Targets</h2>
        <OptionalList
          operation="listNodes"
          listKey="nodes"
          columns={NODE_COLUMNS}
          caption="Nodes to run on"
          emptyTitle={`${NO_NODES_TITLE}: there is nothing to run on`}
          empty={<NoNodes />}
        />
      </section>
    </Page>
  );
}
