import type { Pool, Vdev } from './storage-types.ts';
import { zfsStateClass } from './storage-types.ts';

function VdevItem({ v, onReplace }: { v: Vdev; onReplace?: (v: Vdev) => void }) {
  const errors = v.readErrors + v.writeErrors + v.checksumErrors;
  const leafBad = v.children.length === 0 && v.state && !['ONLINE', 'AVAIL', 'INUSE'].includes(v.state);
  return (
    <li>
      <span className="vdev-name">{v.name}</span>{' '}
      <span className={zfsStateClass(v.state)}>{v.state || '—'}</span>
      {errors > 0 && (
        <span className="vdev-errors">
          {' '}
          errors R{v.readErrors} W{v.writeErrors} C{v.checksumErrors}
        </span>
      )}
      {v.note && <span className="muted"> {v.note}</span>}
      {leafBad && onReplace && (
        <>
          {' '}
          <button type="button" className="button-small" onClick={() => onReplace(v)}>
            Replace {v.name.split('/').pop()}…
          </button>
        </>
      )}
      {v.children.length > 0 && (
        <ul className="vdev-tree">
          {v.children.map((c) => (
            <VdevItem key={c.name} v={c} onReplace={onReplace} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** The pool's vdevs as `zpool status` nests them, with states, error counters and notes. */
export function VdevTree({ pool, onReplace }: { pool: Pool; onReplace?: (v: Vdev) => void }) {
  const classes: [string, Vdev[]][] = [
    ['logs', pool.logs],
    ['cache', pool.cache],
    ['spares', pool.spares],
    ['special', pool.special],
    ['dedup', pool.dedup],
  ];
  return (
    <ul className="vdev-tree" aria-label={`vdevs of ${pool.name}`}>
      <VdevItem v={pool.root} onReplace={onReplace} />
      {classes
        .filter(([, list]) => list.length > 0)
        .map(([name, list]) => (
          <li key={name}>
            <span className="vdev-name">{name}</span>
            <ul className="vdev-tree">
              {list.map((c) => (
                <VdevItem key={c.name} v={c} onReplace={onReplace} />
              ))}
            </ul>
          </li>
        ))}
    </ul>
  );
}
