const LABELS: Record<string, string> = {
  ready: 'ready',
  unreachable: 'unreachable',
  maintenance: 'maintenance',
  'host-key-mismatch': 'host key changed',
  running: 'running',
  pending: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
};

/** A node or job state as a coloured badge; the words carry the meaning, the colour only helps. */
export function StateBadge({ state, title }: { state: string; title?: string }) {
  const safe = /^[a-z-]+$/.test(state) ? state : 'unknown';
  return (
    <span className={`state state-${safe}`} title={title || undefined}>
      {LABELS[state] ?? state}
    </span>
  );
}
