/**
 * Starts log shipping for the server when GRIM_LOKI_URL is set, under the database lease "loop:log-shipping":
 * with several grim instances exactly one ships, and its cursor writes are fenced by the lease (an instance that
 * lost the lease cannot move a cursor). A lost lease stops the tailers; the next holder continues from the
 * stored cursors. The returned stop ends it.
 */
import type { Services } from '../../server/services.ts';
import { emptyStats } from './batcher.ts';
import { LogShipper } from './shipper.ts';
import { logShippingFromEnv } from './settings.ts';

export const LOG_SHIPPING_LEASE = 'loop:log-shipping';

export function startLogShipping(
  s: Services,
  print: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<void> {
  const opts = logShippingFromEnv(env);
  if (!opts) return async () => {};
  const stats = emptyStats();
  s.logShipping = { stats, target: opts.target };
  print(`shipping logs to Loki at ${opts.target.url}`);
  const quit = new AbortController();
  const stopLoop = s.leases.runUnderLease(
    LOG_SHIPPING_LEASE,
    async (lease) => {
      const shipper = new LogShipper(
        { db: s.leases.loopDb(LOG_SHIPPING_LEASE), pool: s.pool, drivers: s.apps.drivers },
        { ...opts, log: print, stats },
      );
      const stop = shipper.start();
      await new Promise<void>((resolve) => {
        if (lease.signal.aborted || quit.signal.aborted) return resolve();
        lease.signal.addEventListener('abort', () => resolve(), { once: true });
        quit.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await stop();
    },
    { everyMs: 1000 },
  );
  return async () => {
    quit.abort();
    await stopLoop();
  };
}
