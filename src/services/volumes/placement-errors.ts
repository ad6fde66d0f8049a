/** A stateful placement refused by place() as a DomainError whose details give every node's numbers. */
import { DomainError } from '../../domain/errors.ts';
import type { PlacementFailure } from '../../domain/placement.ts';

export function volumeRefusal(app: string, f: PlacementFailure): DomainError {
  const prefix =
    f.code === 'pinned' ? `${app} is pinned to its data: ` : `the volumes of ${app} do not fit: `;
  return new DomainError(
    'conflict',
    prefix + f.message,
    (f.volumeNodes ?? []).map((v) => ({ path: `nodes/${v.nodeName}`, message: v.message })),
  );
}
