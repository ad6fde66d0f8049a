/** What to do when there are no nodes: shared by Overview, Nodes and Run. */
export function NoNodes() {
  return (
    <p>
      Add one, or run <code>grim lab up</code> to start a local lab of test nodes.
    </p>
  );
}
export const NO_NODES_TITLE = 'No nodes yet';
