/**
 * `grim app logs` and the UI's log view from Loki: the newest `tail` lines of each instance of an app, read
 * with one query_range over the app's stream ({app="NAME"}), the last 7 days (Loki's default reject_old_samples_max_age).
 */
import type { Db } from '../../store/db.ts';
import { appInstancesForLogs } from '../../store/monitoring-repo.ts';
import { notFound } from '../../domain/errors.ts';
import type { LokiTarget } from '../../integrations/loki/push-client.ts';
import { queryRange, selector } from '../../integrations/loki/query.ts';

const WINDOW_NS = 7n * 24n * 3600n * 1_000_000_000n;

export async function appLogsFromLoki(
  db: Db,
  target: LokiTarget | undefined,
  app: string,
  tail: number,
  now = Date.now(),
): Promise<{ instance: string; node: string; release: number; text: string; error: string }[]> {
  const instances = await appInstancesForLogs(db, app);
  if (!instances) throw notFound(`app ${app}`);
  const base = instances.map((i) => ({
    instance: i.id,
    node: i.node,
    release: i.release,
    text: '',
    error: '',
  }));
  if (!target) return base.map((b) => ({ ...b, error: 'Loki is not configured (GRIM_LOKI_URL)' }));
  const endNs = BigInt(now) * 1_000_000n;
  try {
    const streams = await queryRange(target, {
      query: selector({ app }),
      startNs: endNs - WINDOW_NS,
      endNs,
      limit: Math.min(5000, tail * Math.max(1, instances.length)),
      direction: 'backward',
    });
    const byInstance = new Map<string, { tsNs: bigint; line: string }[]>();
    for (const s of streams) {
      const id = s.labels.instance ?? '';
      byInstance.set(id, [...(byInstance.get(id) ?? []), ...s.values]);
    }
    return base.map((b) => {
      const lines = (byInstance.get(b.instance) ?? []).sort((x, y) =>
        x.tsNs < y.tsNs ? -1 : x.tsNs > y.tsNs ? 1 : 0,
      );
      return {
        ...b,
        text: lines
          .slice(-tail)
          .map((l) => l.line + '\n')
          .join(''),
      };
    });
  } catch (err) {
    return base.map((b) => ({ ...b, error: (err as Error).message }));
  }
}
