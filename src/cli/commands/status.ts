import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { print, table, when } from '../output.ts';

/** `grim status`: the control plane's instances and who holds which lease (background loops, rollouts). */
export function registerStatusCommand(program: Command) {
  program
    .command('status')
    .description('grim instances on this database and which one runs each background loop and rollout')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('getControlPlane');
      print(o, r, () => {
        const instances = table(
          ['INSTANCE', 'HOST', 'PID', 'VERSION', 'LISTEN', 'STARTED', 'STATE'],
          r.instances.map((i) => [
            i.id + (i.id === r.self ? ' (this)' : ''),
            i.hostname,
            i.pid,
            i.version,
            i.listen,
            when(i.startedAt),
            i.alive ? 'alive' : i.stoppedAt ? `stopped ${when(i.stoppedAt)}` : 'gone (lease expired)',
          ]),
        );
        const leases = table(
          ['LEASE', 'HOLDER', 'TOKEN', 'SINCE', 'STATE'],
          r.leases.map((l) => [
            l.name,
            l.holder,
            l.token,
            when(l.acquiredAt),
            l.expired ? 'expired' : `renewed ${when(l.renewedAt)}`,
          ]),
        );
        return `grim ${r.version} on ${r.dialect}\n\n${instances}\n\n${leases}`;
      });
    });
}
