import { CopyButton } from '../../components/CopyButton.tsx';

/** A new token's secret: shown once, with a copy button, until dismissed. */
export function TokenSecret({
  name,
  secret,
  onDismiss,
}: {
  name: string;
  secret: string;
  onDismiss(): void;
}) {
  return (
    <div className="secret" role="status" aria-labelledby="secret-title">
      <p id="secret-title">
        <strong>Token “{name}” created.</strong> Copy its secret now: it is shown only once.
      </p>
      <div className="secret-row">
        <label htmlFor="token-secret" className="visually-hidden">
          Token secret
        </label>
        <input
          id="token-secret"
          className="secret-value"
          readOnly
          value={secret}
          onFocus={(e) => e.target.select()}
        />
        <CopyButton text={secret} label="Copy secret" />
        <button type="button" className="button button-quiet" onClick={onDismiss}>
          Done
        </button>
      </div>
    </div>
  );
}
