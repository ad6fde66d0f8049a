/**
 * Alertmanager configuration grim generates: every alert goes to grim's webhook (authenticated with an
 * operator API token, so firing alerts show in grim's UI and resolve there), and, when an SMTP relay is
 * given, also by e-mail to the admins. Resolved notifications are sent too.
 */
import { stringify } from 'yaml';

export interface AlertmanagerSettings {
  /** grim's base URL as Alertmanager reaches it, e.g. https://grim.example:8080 */
  grimUrl: string;
  /** File holding the operator API token (Alertmanager reads it; the token is not in the config). */
  grimTokenFile: string;
  /** CA file to verify grim's certificate (its local CA), when grim serves HTTPS with it. */
  grimCaFile?: string;
  email?: {
    to: string[];
    from: string;
    smarthost: string;
    authUsername?: string;
    authPasswordFile?: string;
    requireTls?: boolean;
  };
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export function alertmanagerConfig(s: AlertmanagerSettings): Record<string, unknown> {
  const webhook = {
    url: `${s.grimUrl.replace(/\/+$/, '')}/api/alerts/webhook`,
    send_resolved: true,
    max_alerts: 0,
    http_config: {
      authorization: { type: 'Bearer', credentials_file: s.grimTokenFile },
      ...(s.grimCaFile ? { tls_config: { ca_file: s.grimCaFile } } : {}),
    },
  };
  const receivers: Record<string, unknown>[] = [{ name: 'grim', webhook_configs: [webhook] }];
  const routes: Record<string, unknown>[] = [];
  if (s.email) {
    receivers.push({
      name: 'admins-email',
      email_configs: s.email.to.map((to) => ({
        to,
        from: s.email!.from,
        smarthost: s.email!.smarthost,
        send_resolved: true,
        require_tls: s.email!.requireTls ?? true,
        ...(s.email!.authUsername ? { auth_username: s.email!.authUsername } : {}),
        ...(s.email!.authPasswordFile ? { auth_password_file: s.email!.authPasswordFile } : {}),
      })),
    });
    // grim's webhook first (continue), then e-mail for the same alerts
    routes.push({ receiver: 'grim', continue: true }, { receiver: 'admins-email' });
  }
  return {
    route: {
      receiver: 'grim',
      group_by: ['alertname', 'env', 'node'],
      group_wait: s.groupWait ?? '30s',
      group_interval: s.groupInterval ?? '5m',
      repeat_interval: s.repeatInterval ?? '4h',
      ...(routes.length ? { routes } : {}),
    },
    receivers,
  };
}

export function alertmanagerConfigYaml(s: AlertmanagerSettings): string {
  return stringify(alertmanagerConfig(s), { lineWidth: 0 });
}
