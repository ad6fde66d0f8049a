/**
 * Which files grim tails on a node: each app instance's output file (where its runtime's supervisor
 * writes stdout and stderr) and the node's syslog file.
 */
import type { Db } from '../../store/db.ts';
import { instancesForLogs } from '../../store/monitoring-repo.ts';
import { instanceSource, syslogSource, type LogSource } from '../../domain/logs/streams.ts';
import { groupLabel } from '../metrics/labels.ts';

/** Syslog files tried on every node (a node has one of them, or neither). */
export const DEFAULT_SYSLOG_PATHS = ['/var/log/syslog', '/var/log/messages'];
const STATE_DIR = '/var/lib/grim';
const SAFE_PATH = /^\/[A-Za-z0-9/_.@+-]+$/;

export interface NodeForLogs {
  name: string;
  environment: string;
  groups: readonly string[];
}

/** The output file of one instance, from its runtime handle. */
export function instanceLogPath(id: string, handle: string): string | null {
  let h: { driver?: string; data?: Record<string, unknown> };
  try {
    h = JSON.parse(handle) as typeof h;
  } catch {
    return null;
  }
  const dir = h.data?.dir;
  if (typeof dir === 'string' && SAFE_PATH.test(dir)) return `${dir}/log`;
  if (h.driver === 'container') return `${STATE_DIR}/containers/${id}/output.log`;
  if (h.driver === 'script' || h.driver === 'qemu-microvm' || h.driver === 'firecracker')
    return `${STATE_DIR}/apps/${id}/log`;
  return null;
}

export async function logSourcesOn(
  db: Db,
  node: NodeForLogs,
  syslogPaths: readonly string[] = DEFAULT_SYSLOG_PATHS,
): Promise<LogSource[]> {
  const group = groupLabel(node.groups);
  const out: LogSource[] = syslogPaths.map((path) => ({
    ...syslogSource({ node: node.name, env: node.environment, group, path }),
    key: `node:${node.name}:syslog:${path}`,
  }));
  for (const r of await instancesForLogs(db, node.name)) {
    const path = instanceLogPath(r.id, r.handle);
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
