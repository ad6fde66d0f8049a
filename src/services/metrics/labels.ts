/**
 * Identity labels of node and instance samples for Prometheus (federate and remote write):
 * env, group, node, app, instance. A node in several groups gets them sorted and comma-joined,
 * so the label value is stable whatever order they were added in.
 */
import type { IdentityLabels } from '../../integrations/prometheus/names.ts';

export interface NodeIdentity {
  name: string;
  environment: string;
  groups: readonly string[];
}

export function groupLabel(groups: readonly string[]): string {
  return [...groups].sort().join(',');
}

export function nodeLabels(n: NodeIdentity): IdentityLabels {
  return { env: n.environment, group: groupLabel(n.groups), node: n.name };
}

export function instanceLabels(
  instanceId: string,
  node: NodeIdentity | undefined,
  app: string | undefined,
): IdentityLabels {
  return { ...(node ? nodeLabels(node) : {}), app, instance: instanceId };
}
