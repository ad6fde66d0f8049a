/**
 * Which files grim tails on a node: each app instance's output file (where its driver says the app's stdout
 * and stderr land: observe().logFile) and the node's syslog file.
 */
import type { Db } from '../../store/db.ts';
import type { DriverSet } from '../../drivers/driver-set.ts';
import type { InstanceHandle } from '../../drivers/driver.ts';
import { instancesForLogs } from '../../store/monitoring-repo.ts';
import { instanceSource, syslogSource, type LogSource } from '../../domain/logs/streams.ts';
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
  let h: InstanceHandle;
  try {
    h = JSON.parse(handle) as InstanceHandle;
  } catch {
    return null;
  }
  if (!drivers.has(h.driver)) return null;
  return drivers.get(h.driver).observe(h).logFile ?? null;
}

export async function logSourcesOn(
  db: Db,
  drivers: DriverSet,
  node: NodeForLogs,
  syslogPaths: readonly string[] = DEFAULT_SYSLOG_PATHS,
): Promise<LogSource[]> {
  const group = groupLabel(node.groups);
  const out: LogSource[] = syslogPaths.map((path) => ({
    ...syslogSource({ node: node.name, env: node.environment, group, path }),
    key: `node:${node.name}:syslog:${path}`,
  }));
  for (const r of await instancesForLogs(db, node.name)) {
    const path = instanceLogPath(drivers, r.handle);
    if (path)
      out.push(
        instanceSource({
          instance: r.id,
          app: r.app,
          node: node.name,
          env: r.environment,
          group: r.group_name,
          path,
        }),
      );
  }
  return out.filter((s) => SAFE_PATH.test(s.path));
}
