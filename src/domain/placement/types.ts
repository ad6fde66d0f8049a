/** Types of the pure placement function: the snapshot it reads, the request, and the plan it returns. */

export type NodeState = 'ready' | 'unreachable' | 'maintenance' | 'host-key-mismatch';
export const NODE_STATES: readonly NodeState[] = ['ready', 'unreachable', 'maintenance', 'host-key-mismatch'];

export type CpuMemory = { cpuMillis: number; memoryBytes: number };

/** One node of the target group, as read from the store at one moment. */
export type SnapshotNode = {
  id: string;
  name: string;
  state: NodeState;
  /** What the node offers to apps. */
  allocatable: CpuMemory;
  /** Sum of the requests of everything already placed on the node (this app's instances included). */
  requested: CpuMemory;
  /** Actual recent usage, when metrics are known. Reported in overcommit warnings only. */
  used?: CpuMemory;
  /** Instances of the app being placed that already run on this node. */
  appInstances: number;
  /** The node holds this app's local volumes (its data): stateful instances return here. */
  volumeHolder?: boolean;
  /** Free bytes for new local volumes on the node; undefined when unknown. */
  volumeFreeBytes?: number;
  /** Why the app's runtime cannot run on this node (from its recorded facts); absent when it can. */
  cannotRun?: string;
};

export type PlacementSnapshot = { nodes: readonly SnapshotNode[] };

export type PlacementRequest = {
  app: string;
  /** Desired total instance count. Instances already in the snapshot count toward it; only the delta is placed. */
  replicas: number;
  /** Per instance. Extra fields (e.g. diskBytes) are ignored. */
  resources: CpuMemory;
  acceptOvercommit: boolean;
  /** The app has local volumes: its instances are pinned to their data (placement/volumes.ts). */
  volumes?: VolumePlacement;
};

/** New instances for one node. */
export type Placement = { nodeId: string; nodeName: string; add: number; totalAfter: number };

export type SkippedNode = {
  nodeId: string;
  nodeName: string;
  state: Exclude<NodeState, 'ready'>;
  reason: string;
  appInstances: number;
};

/** A ready node that cannot run the app (its runtime is missing there): it takes no new instance. */
export type ExcludedNode = { nodeId: string; nodeName: string; reason: string; appInstances: number };

export type OvercommittedNode = {
  nodeId: string;
  nodeName: string;
  /** Which requested totals end up above allocatable. */
  exceeds: Array<'cpu' | 'memory'>;
  requestedAfter: CpuMemory;
  allocatable: CpuMemory;
  used: CpuMemory | null;
  held: boolean;
};

export type PlacementPlan = {
  ok: true;
  app: string;
  /** Instances already present on all snapshot nodes (skipped nodes included). */
  existing: number;
  /** New instances in the plan: replicas - existing. */
  added: number;
  /** The full plan, always filled, sorted by node name then id. */
  proposed: Placement[];
  /** What may be applied: `proposed`, or empty while the plan is held for overcommit. */
  placements: Placement[];
  /** True when the plan overcommits a node and acceptOvercommit was false. */
  held: boolean;
  overcommit: { held: boolean; nodes: OvercommittedNode[] };
  skipped: SkippedNode[];
  /** Ready nodes left out because the app's runtime cannot run there, each with the reason. */
  excluded: ExcludedNode[];
  /** Human-readable notes: one per overcommitted node, and instances counted on skipped nodes. */
  warnings: string[];
  /** Stateful apps only: per node, whether an instance returns to its data, gets new volumes, or why not. */
  volumeNodes?: VolumeNodeVerdict[];
};

export type PlacementFailure = {
  ok: false;
  /**
   * invalid: the input is wrong; unavailable: no ready node can take the instances; pinned: instances keep their
   * data on nodes that are not ready (grim does not move them without it); no-space: their volumes fit nowhere.
   */
  code: 'invalid' | 'unavailable' | 'pinned' | 'no-space';
  message: string;
  problems: string[];
  skipped: SkippedNode[];
  /** pinned / no-space: every node of the group with its verdict and numbers. */
  volumeNodes?: VolumeNodeVerdict[];
  excluded: ExcludedNode[];
};

export type PlacementResult = PlacementPlan | PlacementFailure;

/**
 * Local volumes pin an app's instances to the nodes that hold its data (see placement/volumes.ts). Present on a
 * request, it makes the app stateful: at most one instance per node, holders first, new data only where it fits.
 */
export type VolumePlacement = {
  /** Node storage one instance's local volumes take. */
  bytesPerInstance: number;
  /** Holder nodes whose data the user gave up (e.g. after restoring a backup elsewhere). */
  abandon?: readonly string[];
};

/** Why a node could not take a stateful instance, with the numbers. */
export type VolumeNodeVerdict = {
  nodeId: string;
  nodeName: string;
  verdict: 'returns' | 'new' | 'runs' | 'no-space' | 'unknown-space' | 'not-ready' | 'stranded';
  message: string;
  freeBytes?: number;
};
