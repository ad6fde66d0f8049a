/**
 * The build settings an admin chooses in grim: which nodes run Buildbot workers (image builds run there), and
 * where grim's build registry keeps its images: a directory of the control node, a grim volume on the control
 * node (snapshots, backups like app data), or an S3 bucket on an environment's SeaweedFS cluster. Pure checks:
 * every problem is listed, with what exists passed in.
 */
import type { ErrorDetail } from './errors.ts';
import { bucketNameProblems } from './seaweedfs/names.ts';

export type RegistryStorage =
  { kind: 'directory' } | { kind: 'volume' } | { kind: 's3'; environment: string; bucket: string };

export interface BuildSettings {
  workerNodes: string[];
  registryStorage: RegistryStorage;
}

export const DEFAULT_BUILD_SETTINGS: BuildSettings = {
  workerNodes: [],
  registryStorage: { kind: 'directory' },
};

export const MAX_WORKER_NODES = 32;

/** What the checks compare against: the nodes grim knows, and the environments with a SeaweedFS cluster. */
export interface BuildSettingsFacts {
  nodes: ReadonlySet<string>;
  storageClusters: ReadonlySet<string>;
}

export function buildSettingsProblems(input: BuildSettings, facts: BuildSettingsFacts): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const nodes = input.workerNodes;
  if (nodes.length > MAX_WORKER_NODES)
    problems.push({ path: 'body/workerNodes', message: `at most ${MAX_WORKER_NODES} worker nodes` });
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    const path = `body/workerNodes/${i}`;
    if (seen.has(n)) problems.push({ path, message: `node ${n} is listed twice` });
    seen.add(n);
    if (!facts.nodes.has(n))
      problems.push({ path, message: `node ${JSON.stringify(n).slice(0, 80)} does not exist` });
  });
  const s = input.registryStorage;
  if (s.kind === 's3') {
    for (const message of bucketNameProblems(s.bucket))
      problems.push({ path: 'body/registryStorage/bucket', message });
    if (!facts.storageClusters.has(s.environment))
      problems.push({
        path: 'body/registryStorage/environment',
        message: `environment ${JSON.stringify(s.environment).slice(0, 80)} has no SeaweedFS cluster`,
      });
  }
  return problems;
}
