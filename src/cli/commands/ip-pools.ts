import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { collect, print, table } from '../output.ts';

type Pool = Awaited<ReturnType<typeof listPools>>[number];
const listPools = async () => (await apiClient().call('listIpPools')).pools;
const scopeText = (p: Pool) => `${p.scope.kind} ${p.scope.id}`;

/** The one scope a pool belongs to, from exactly one of --environment, --group, --node. */
function scopeOf(o: { environment?: string; group?: string; node?: string }) {
  const given = (['environment', 'group', 'node'] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw new Error('give exactly one of --environment, --group or --node');
  const kind = given[0];
  return { kind, id: o[kind] as string };
}

/** `grim ip-pool`: the IPAM pools bridged microVMs take their LAN addresses from (and nodes' nat subnets). */
export function registerIpPoolCommands(program: Command) {
  const pool = program
    .command('ip-pool')
    .alias('ip-pools')
    .description('IPAM pools: LAN addresses for bridged microVMs, per environment or group (admin)');
  pool
    .command('create <name>')
    .alias('set')
    .description('create or change a pool (a group pool wins over its environment pool)')
    .requiredOption('--cidr <cidr>', 'e.g. 192.168.50.0/24')
    .requiredOption('--gateway <ip>', 'the LAN gateway the guests use')
    .option('--exclude <ip|from-to>', 'addresses never handed out (repeatable)', collect)
    .option('--environment <env>', 'the pool of an environment')
    .option('--group <group>', 'the pool of a group')
    .option('--node <node>', "a node's nat subnet")
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('putIpPool', {
        params: { name },
        body: { cidr: o.cidr, gateway: o.gateway, excluded: o.exclude ?? [], scope: scopeOf(o) },
      });
      print(
        o,
        r,
        () =>
          `ip pool ${r.pool.id}: ${r.pool.cidr} via ${r.pool.gateway} for ${r.pool.scope.kind} ${r.pool.scope.id}`,
      );
    });
  pool
    .command('list')
    .option('--json')
    .action(async (o) => {
      const pools = await listPools();
      print(o, { pools }, () =>
        table(
          ['NAME', 'CIDR', 'GATEWAY', 'SCOPE', 'EXCLUDED', 'IN USE'],
          pools.map((p) => [p.id, p.cidr, p.gateway, scopeText(p), p.excluded.join(' '), p.used.length]),
        ),
      );
    });
  pool
    .command('show <name>')
    .option('--json')
    .action(async (name, o) => {
      const p = (await listPools()).find((x) => x.id === name);
      if (!p) throw new Error(`IP pool ${name} not found`);
      print(o, { pool: p }, () =>
        [
          `${p.id}: ${p.cidr} via ${p.gateway} for ${scopeText(p)}` +
            (p.excluded.length ? `, excluded ${p.excluded.join(' ')}` : ''),
          table(
            ['ADDRESS', 'OWNER'],
            p.used.map((u) => [u.address, u.owner]),
          ),
        ].join('\n'),
      );
    });
  pool.command('delete <name>').action(async (name) => {
    await apiClient().call('deleteIpPool', { params: { name } });
    process.stdout.write(`deleted ip pool ${name}\n`);
  });
}
