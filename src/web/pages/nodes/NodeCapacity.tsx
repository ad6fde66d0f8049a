import { formatBytes, formatCpu } from '../../format.ts';
import { Meter } from '../../components/Meter.tsx';
import type { NodeCapacityView, NodeView } from '../../types.ts';

function Row({
  label,
  node,
  allocatable,
  requested,
  used,
  format,
}: {
  label: string;
  node: string;
  allocatable: number;
  requested: number | null;
  used: number | null;
  format(n: number): string;
}) {
  return (
    <div className="capacity-row">
      <span className="capacity-label">{label}</span>
      <span className="capacity-bars">
        <Meter
          label={`${label} requested on ${node}`}
          value={requested ?? 0}
          max={allocatable}
          text={`${requested === null ? '—' : format(requested)} requested of ${format(allocatable)}`}
        />
        <Meter
          label={`${label} used on ${node}`}
          value={used ?? 0}
          max={allocatable}
          text={used === null ? 'used: not collected' : `${format(used)} used`}
        />
      </span>
    </div>
  );
}

/**
 * What a node offers and what it carries: requested (by app placements) and used (from usage
 * metrics) against allocatable. Without a capacity record (not loaded yet) only allocatable shows.
 */
export function NodeCapacity({
  node,
  capacity,
  compact = false,
}: {
  node: Pick<NodeView, 'name' | 'allocatable'>;
  capacity?: NodeCapacityView;
  compact?: boolean;
}) {
  const a = capacity?.allocatable ?? node.allocatable;
  return (
    <div className={compact ? 'capacity capacity-compact' : 'capacity'}>
      <Row
        label="CPU"
        node={node.name}
        allocatable={a.cpuMillis}
        requested={capacity ? capacity.requested.cpuMillis : null}
        used={capacity?.used.cpuMillis ?? null}
        format={formatCpu}
      />
      <Row
        label="Memory"
        node={node.name}
        allocatable={a.memoryBytes}
        requested={capacity ? capacity.requested.memoryBytes : null}
        used={capacity?.used.memoryBytes ?? null}
        format={formatBytes}
      />
      {!compact && capacity?.used.cpuMillis === null && (
        <p className="muted small">
          Usage not collected yet for this node: the used bars fill in once metrics arrive.
        </p>
      )}
    </div>
  );
}
