import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { byName } from '../../format.ts';
import { Link } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { NoNodes, NO_NODES_TITLE } from './NoNodes.tsx';
import { NodeTable } from './NodeTable.tsx';

export function NodesPage() {
  const isAdmin = useCan('admin');
  const isOperator = useCan('operator');
  const q = useQuery(async (signal) => ({ nodes: byName((await call('listNodes', {}, signal)).nodes) }), []);
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the nodes." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.nodes.length === 0)
    body = (
      <EmptyState title={NO_NODES_TITLE}>
        <NoNodes />
      </EmptyState>
    );
  else body = <NodeTable nodes={q.data.nodes} caption="Nodes" />;
  return (
    <Page
      title="Nodes"
      actions={
        <>
          {isOperator && (
            <Link to="/nodes/update" className="button">
              Rolling OS update
            </Link>
          )}
          {isAdmin && (
            <Link to="/nodes/add" className="button button-primary">
              Add node
            </Link>
          )}
        </>
      }
    >
      <section className="panel">{body}</section>
    </Page>
  );
}
