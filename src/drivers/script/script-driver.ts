/**
 * The `script` runtime: the user's own sh scripts. `start` runs in the foreground under the node's supervisor
 * with the instance's environment (ports, env, secrets) from its environment file; `stop` runs before the
 * instance is stopped; `status` (exit 0 = well) is consulted by inspect. No isolation; the supervisor runs the
 * app in the cgroup grim/<id> with the size's memory limit and CPU quota where the node's cgroups allow (best
 * effort, so limits are not promised).
 */
import type { RuntimeDriver } from '../driver.ts';
import { scriptCgroupPath, supervisedLogFile, supervisedStderrFile } from '../supervised/supervision.ts';
import { supervised } from '../supervised/supervised.ts';

export function createScriptDriver(): RuntimeDriver {
  return supervised({
    kind: 'script',

    capabilities: () => ({ logs: true, exec: false, enforcesLimits: false }),

    async fingerprint(ctx) {
      // Everything the supervision scripts need is POSIX sh plus setsid; app-list.sh is a harmless probe.
      try {
        await ctx.runScript('app-list', {}, { timeoutMs: 30_000 });
        return { available: true };
      } catch (err) {
        return { available: false, reason: (err as Error).message };
      }
    },

    async prepare(spec, ctx) {
      if (spec.source.kind !== 'script')
        throw new Error(`the script driver cannot run a ${spec.source.kind} source`);
      return {
        handle: {
          driver: 'script',
          instanceId: spec.instanceId,
          node: ctx.node,
          data: { cgroup: scriptCgroupPath(spec.instanceId) },
        },
        service: {
          run: spec.source.start,
          stop: spec.source.stop,
          status: spec.source.status,
          env: spec.env,
          cgroup: { memoryBytes: spec.resources.memoryBytes, cpuMillis: spec.resources.cpuMillis },
        },
      };
    },

    // the supervisor's cgroup (best effort); the supervisor writes the app's stdout and stderr apart
    observe: (h) => ({
      cgroups: [scriptCgroupPath(h.instanceId)],
      logFile: supervisedLogFile(h.instanceId),
      stderrLogFile: supervisedStderrFile(h.instanceId),
    }),
  });
}
