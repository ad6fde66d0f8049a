/** Types shared by the log shipper, its settings and the server (kept apart so settings need no SSH or store). */
import type { LokiTarget, PushOptions } from '../../integrations/loki/push-client.ts';
import type { ShipperStats } from './batcher.ts';

export type ShipperStatsView = ShipperStats;

export interface ShipperOptions {
  target: LokiTarget;
  /** How often each node is read (default 1 s). */
  readIntervalMs?: number;
  /** Largest push (default 1 MB) and longest wait before a push (default 1 s). */
  batchBytes?: number;
  batchWaitMs?: number;
  /** Time allowed for one read (default 5 s). */
  readTimeoutMs?: number;
  /** Bytes read per file and per node in one read (defaults 512 KiB / 2 MiB). */
  maxBytesPerFile?: number;
  maxBytesPerRead?: number;
  syslogPaths?: readonly string[];
  /** Read each node's systemd journal when it has one (default true); its syslog files are then left alone. */
  journal?: boolean;
  /** The journal's directory on the nodes (journalctl --directory; default the system journal). */
  journalDir?: string;
  /** Journal entries read from one node in one read (default 2000). */
  journalMaxEntries?: number;
  push?: PushOptions;
  log?: (line: string) => void;
  /** Counters to add to (kept across restarts of the shipper under a lease). */
  stats?: ShipperStatsView;
}
