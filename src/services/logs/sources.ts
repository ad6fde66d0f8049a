/**
 * What grim reads on a node: each app instance's output files, as its driver names them (observe(): stdout and
 * stderr apart, or a microVM's console), the node's syslog file and its systemd journal (when it has one).
 */
import type { Db } from '../../store/db.ts';
import type { DriverSet } from '../../drivers/driver-set.ts';
import type { InstanceHandle } from '../../drivers/driver.ts';
import { instancesForLogs } from '../../store/monitoring-repo.ts';
import { instanceSource, journalSource, syslogSource, type LogSource } from '../../domain/logs/streams.ts';
import { groupLabel } from '../metrics/labels.ts';

/** Syslog files tried on every node (a node has one of them, or neither). */
export const DEFAULT_SYSLOG_PATHS = ['/var/log/syslog', '/var/log/messages'];
const SAFE_PATH = /^\/[A-Za-z0-9/_.@+-]+$/;

export interface NodeForLogs {
  name: string;
  environment: string;
  groups: readonly string[];
}

/** The output file of one instance, as its driver says (observe()); null when no driver of its kind is known. */
export function instanceLogPath(drivers: DriverSet, handle: string): string | null {
  return instanceLogFiles(drivers, handle)[0]?.path ?? null;
}

export interface InstanceLogFile {
  path: string;
  stream: 'stdout' | 'stderr' | 'console';
}

/**
 * The output files of one instance, as its driver says (observe()): stdout and stderr when the driver keeps
 * them apart, else the one file (a microVM's console); none when no driver of its kind is known.
 */
export function instanceLogFiles(drivers: DriverSet, handle: string): InstanceLogFile[] {
  let h: InstanceHandle;
  try {
    h = JSON.parse(handle) as InstanceHandle;
  } catch {
    return [];
  }
  if (!drivers.has(h.driver)) return [];
  const o = drivers.get(h.driver).observe(h);
  if (!o.logFile) return [];
  if (!o.stderrLogFile) return [{ path: o.logFile, stream: 'console' }];
  return [
    { path: o.logFile, stream: 'stdout' },
    { path: o.stderrLogFile, stream: 'stderr' },
  ];
}

export interface NodeLogSettings {
  syslogPaths?: readonly string[];
  /** Read the node's systemd journal when it has one (default true). */
  journal?: boolean;
  /** The journal's directory ('' or unset: the system journal). */
  journalDir?: string;
}

export async function logSourcesOn(
  db: Db,
  drivers: DriverSet,
  node: NodeForLogs,
  settings: NodeLogSettings = {},
): Promise<LogSource[]> {
  const group = groupLabel(node.groups);
  const out: LogSource[] = (settings.syslogPaths ?? DEFAULT_SYSLOG_PATHS).map((path) => ({
    ...syslogSource({ node: node.name, env: node.environment, group, path }),
    key: `node:${node.name}:syslog:${path}`,
  }));
  for (const r of await instancesForLogs(db, node.name))
    for (const f of instanceLogFiles(drivers, r.handle))
      out.push(
        instanceSource({
          instance: r.id,
          app: r.app,
          node: node.name,
          env: r.environment,
          group: r.group_name,
          ...f,
        }),
      );
  const files = out.filter((s) => SAFE_PATH.test(s.path));
  if (settings.journal === false) return files;
  const directory = settings.journalDir ?? '';
  if (directory && !SAFE_PATH.test(directory)) return files;
  return [...files, journalSource({ node: node.name, env: node.environment, group, directory })];
}
