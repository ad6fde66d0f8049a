/**
 * A horizontal bar for "value of max" (capacity, job progress): a native <meter>/<progress> for
 * assistive technology, styled by CSS only (no inline styles under the CSP).
 */
export function Meter({
  label,
  value,
  max,
  text,
  kind = 'meter',
}: {
  label: string;
  value: number;
  max: number;
  text: string;
  kind?: 'meter' | 'progress';
}) {
  const safeMax = max > 0 ? max : 1;
  return (
    <span className="meter">
      {kind === 'progress' ? (
        <progress className="meter-bar" aria-label={label} value={Math.min(value, safeMax)} max={safeMax} />
      ) : (
        <meter
          className="meter-bar"
          aria-label={label}
          min={0}
          value={Math.min(value, safeMax)}
          max={safeMax}
        />
      )}
      <span className="meter-text">{text}</span>
    </span>
  );
}
