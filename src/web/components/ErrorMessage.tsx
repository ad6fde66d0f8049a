import { ApiError } from '../api.ts';

/** Shows an error the way the server phrased it: message, then the details list. Never blank. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  let message: string;
  let details: Array<{ path: string; message: string }> = [];
  let code: string | undefined;
  if (error instanceof ApiError) {
    message = error.body.message || `HTTP ${error.status}`;
    details = error.body.details ?? [];
    code = error.body.code;
  } else if (error instanceof TypeError && /fetch/i.test(error.message)) {
    message = 'Cannot reach the grim server. Check that it is running and try again.';
  } else {
    message = error instanceof Error ? error.message : String(error);
  }
  return (
    <div className="error-message" role="alert">
      {title && <strong className="error-title">{title}</strong>}
      <p className="error-text">
        {message}
        {code && <span className="error-code"> ({code})</span>}
      </p>
      {details.length > 0 && (
        <ul className="error-details">
          {details.map((d, i) => (
            <li key={i}>
              {d.path && <code>{d.path}</code>} {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
