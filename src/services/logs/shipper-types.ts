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
  push?: PushOptions;
  log?: (line: string) => void;
  /** Counters to add to (kept across restarts of the shipper under a lease). */
  stats?: ShipperStatsView;
}
