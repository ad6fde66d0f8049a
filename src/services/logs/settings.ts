/**
 * Log shipping settings from the environment: GRIM_LOKI_URL (base URL, e.g. http://loki:3100) turns it on;
 * GRIM_LOKI_TENANT sets X-Scope-OrgID; GRIM_LOKI_BEARER_TOKEN for a Loki behind auth; GRIM_LOG_SYSLOG_PATHS
 * (comma-separated) overrides the node log files tried (/var/log/syslog, /var/log/messages); GRIM_LOG_JOURNAL=off
 * stops reading the nodes' systemd journals (read by default where a node has one, instead of its syslog files);
 * GRIM_LOG_JOURNAL_DIR reads the journal from that directory (journalctl --directory) instead of the system's.
 */
import type { ShipperOptions, ShipperStatsView } from './shipper-types.ts';

export function logShippingFromEnv(env: NodeJS.ProcessEnv = process.env): ShipperOptions | null {
  if (!env.GRIM_LOKI_URL) return null;
  const url = new URL(env.GRIM_LOKI_URL);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`GRIM_LOKI_URL must be http(s), got ${url.protocol}`);
  const opts: ShipperOptions = {
    target: {
      url: url.toString().replace(/\/+$/, ''),
      ...(env.GRIM_LOKI_TENANT ? { tenant: env.GRIM_LOKI_TENANT } : {}),
      ...(env.GRIM_LOKI_BEARER_TOKEN
        ? { headers: { Authorization: `Bearer ${env.GRIM_LOKI_BEARER_TOKEN}` } }
        : {}),
    },
  };
  if (env.GRIM_LOG_SYSLOG_PATHS) {
    const paths = env.GRIM_LOG_SYSLOG_PATHS.split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const bad = paths.filter((p) => !/^\/[A-Za-z0-9/_.@+-]+$/.test(p));
    if (bad.length) throw new Error(`GRIM_LOG_SYSLOG_PATHS: not absolute plain paths: ${bad.join(', ')}`);
    opts.syslogPaths = paths;
  }
  const journal = env.GRIM_LOG_JOURNAL?.trim().toLowerCase();
  if (journal && !['on', 'off'].includes(journal))
    throw new Error(`GRIM_LOG_JOURNAL must be on or off, got ${env.GRIM_LOG_JOURNAL}`);
  if (journal === 'off') opts.journal = false;
  if (env.GRIM_LOG_JOURNAL_DIR) {
    if (!/^\/[A-Za-z0-9/_.@+-]+$/.test(env.GRIM_LOG_JOURNAL_DIR))
      throw new Error(`GRIM_LOG_JOURNAL_DIR: not an absolute plain path: ${env.GRIM_LOG_JOURNAL_DIR}`);
    opts.journalDir = env.GRIM_LOG_JOURNAL_DIR;
  }
  return opts;
}

/** The shipper's counters for /metrics (Prometheus text). */
export function shipperExposition(s: ShipperStatsView): string[] {
  const c = (name: string, help: string, value: number) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} counter`,
    `${name} ${value}`,
  ];
  return [
    ...c('grim_log_shipper_lines_total', 'Log lines Loki accepted', s.lines),
    ...c('grim_log_shipper_pushed_bytes_total', 'Compressed bytes of accepted pushes', s.bytes),
    ...c('grim_log_shipper_batches_total', 'Pushes Loki accepted', s.batches),
    ...c('grim_log_shipper_rate_limited_total', 'Push attempts answered 429 (retried)', s.rateLimited),
    ...c(
      'grim_log_shipper_retries_total',
      'Push attempts retried after 5xx, 401/403 or network errors',
      s.retried,
    ),
    ...c(
      'grim_log_shipper_rejected_batches_total',
      'Pushes Loki refused with 400 (not retried)',
      s.rejectedBatches,
    ),
    ...c('grim_log_shipper_rejected_lines_total', 'Lines in pushes Loki refused with 400', s.rejectedLines),
    ...c('grim_log_shipper_truncated_lines_total', 'Lines cut to 256 KB', s.truncatedLines),
    ...c('grim_log_shipper_lost_files_total', 'Rotated files gone before grim read their end', s.lostFiles),
    ...c(
      'grim_log_shipper_read_failures_total',
      'Node reads that failed (unreachable, timeout)',
      s.readFailures,
    ),
  ];
}
