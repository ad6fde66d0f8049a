/**
 * What the metrics service needs from work that lands elsewhere (apps, instances). Each provider has a
 * default that is correct while no apps exist: no instance cgroups, nothing requested, no apps.
 */

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
}

export interface MetricsProviders {
  /** Instance cgroups on a node: cgroup path (as metrics.sh takes it) -> instance id. */
  instanceCgroups(node: string): Promise<ReadonlyMap<string, string>> | ReadonlyMap<string, string>;
  /** VMM metrics files on a node (Firecracker): file path -> instance id. */
  instanceVmmMetrics(node: string): Promise<ReadonlyMap<string, string>> | ReadonlyMap<string, string>;
  /** What the instances placed on a node requested. */
  requested(node: string): Promise<Resources> | Resources;
  /** The app an instance belongs to (the `app` label), if any. */
  instanceApp(instanceId: string): Promise<string | undefined> | string | undefined;
  /** An app's instance ids, or null when there is no such app. */
  appInstances(app: string): Promise<readonly string[] | null> | readonly string[] | null;
}

export const DEFAULT_PROVIDERS: MetricsProviders = {
  instanceCgroups: () => new Map(),
  instanceVmmMetrics: () => new Map(),
  requested: () => ({ cpuMillis: 0, memoryBytes: 0 }),
  instanceApp: () => undefined,
  appInstances: () => null,
};
