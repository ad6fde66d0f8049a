/** Alertmanager webhook alerts (payload v4) as the rows grim keeps: one per fingerprint, newest state wins. */

export interface WebhookAlertIn {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}

export interface AlertState {
  fingerprint: string;
  name: string;
  status: 'firing' | 'resolved';
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number | null;
  receivedAt: number;
}

/** Alertmanager sends endsAt "0001-01-01T00:00:00Z" (Go's zero time) for alerts with no end yet. */
function endTime(s: string): number | null {
  const t = Date.parse(s);
  return Number.isNaN(t) || t <= 0 ? null : t;
}

export function alertRowsFromWebhook(alerts: readonly WebhookAlertIn[], now: number): AlertState[] {
  return alerts.map((a) => ({
    fingerprint: a.fingerprint,
    name: a.labels.alertname ?? '',
    status: a.status,
    severity: a.labels.severity ?? '',
    labels: a.labels,
    annotations: a.annotations,
    startsAt: Date.parse(a.startsAt),
    endsAt: a.status === 'resolved' ? endTime(a.endsAt) : null,
    receivedAt: now,
  }));
}
