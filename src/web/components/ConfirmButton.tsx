import { useState } from 'react';

interface Props {
  label: string;
  /** What is about to happen, e.g. "Delete user alice?" */
  question: string;
  confirmLabel?: string;
  onConfirm(): void | Promise<void>;
  busy?: boolean;
  danger?: boolean;
}

/** A two-step button for destructive actions: the first click asks, the second acts. */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, busy, danger }: Props) {
  const [asking, setAsking] = useState(false);
  const cls = danger ? 'button button-danger' : 'button';
  if (!asking)
    return (
      <button type="button" className={cls} onClick={() => setAsking(true)} disabled={busy}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className={cls}
        disabled={busy}
        onClick={async () => {
          await onConfirm();
          setAsking(false);
        }}
      >
        {confirmLabel ?? `Yes, ${label.toLowerCase()}`}
      </button>
      <button type="button" className="button button-quiet" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
