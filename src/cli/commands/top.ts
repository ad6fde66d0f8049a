import type { Command } from 'commander';
import type { Output } from '../../api/route.ts';
import type { Routes } from '../../api/index.ts';
import { apiClient } from '../context.ts';
import { print, table } from '../output.ts';

type TopRow = Output<Routes['getNodeTop']>['nodes'][number];

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(v: number | null): string {
  if (v === null) return '-';
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)}${UNITS[i]}`;
}

const pct = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)}%`);
const rate = (v: number | null) => (v === null ? '-' : `${bytes(v)}/s`);

export function nodeTopTable(rows: readonly TopRow[], now = Date.now()): string {
  return table(
    ['NODE', 'STATE', 'CPU', 'LOAD1', 'MEMORY', 'NET RX', 'NET TX', 'DISK R', 'DISK W', 'FS', 'AGE'],
    rows.map((r) => [
      r.node,
      r.state,
      pct(r.cpuBusyPct),
      r.load1 === null ? '-' : r.load1.toFixed(2),
      r.memUsedBytes === null ? '-' : `${bytes(r.memUsedBytes)}/${bytes(r.memTotalBytes)}`,
      rate(r.netRxBytesPerS),
      rate(r.netTxBytesPerS),
      rate(r.diskReadBytesPerS),
      rate(r.diskWriteBytesPerS),
      pct(r.fsUsedPct),
      r.at === null ? 'no data' : `${Math.max(0, Math.round((now - r.at) / 1000))}s`,
    ]),
  );
}

/**
 * `grim node top`: a live table of every node's latest usage, redrawn every --interval seconds
 * (until Ctrl-C); --once prints it a single time. Registered on the existing `node` command group.
 */
export function registerTopCommands(program: Command) {
  const node =
    program.commands.find((c) => c.name() === 'node') ??
    program.command('node').description('nodes reached over SSH');
  node
    .command('top')
    .description('live usage of every node: CPU, load, memory, network, disk')
    .option('--env <env>')
    .option('--group <group>')
    .option('--interval <seconds>', 'refresh period', (v) => Number(v), 2)
    .option('--once', 'print once and exit')
    .option('--json', 'JSON output (implies --once)')
    .action(async (o) => {
      if (!(o.interval >= 0.5)) throw new Error('--interval must be at least 0.5 seconds');
      const client = apiClient();
      const query = { environment: o.env, group: o.group };
      const once = o.once || o.json;
      // On a terminal the table is redrawn in place; piped, each refresh is appended.
      const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '\n';
      for (;;) {
        const r = await client.call('getNodeTop', { query });
        const text = r.nodes.length
          ? nodeTopTable(r.nodes)
          : 'no nodes' + (o.group || o.env ? ' match' : ' yet: add one with `grim node add`');
        if (once) return print(o, r, () => text);
        process.stdout.write(
          `${clear}${new Date().toISOString()}  every ${o.interval}s, Ctrl-C to quit\n\n${text}\n`,
        );
        await new Promise((res) => setTimeout(res, o.interval * 1000));
      }
    });
}

/** Latest value of a series over the last few minutes, or null. */
async function latest(
  client: ReturnType<typeof apiClient>,
  name: string,
  metric: string,
): Promise<number | null> {
  const now = Date.now();
  const s = await client.call('getMetricSeries', {
    query: { scope: 'instance', name, metric, from: now - 5 * 60_000, to: now },
  });
  return s.points.length ? s.points[s.points.length - 1].value : null;
}

/**
 * `grim app top <app>`: each instance of the app with its node, state, restarts and latest CPU
 * (millicores) and memory from its cgroup, redrawn every --interval seconds; --once prints once.
 */
export function registerAppTopCommand(program: Command) {
  const app = program.commands.find((c) => c.name() === 'app') ?? program.command('app').description('apps');
  app
    .command('top <name>')
    .description("live usage of an app's instances: CPU and memory from their cgroups")
    .option('--interval <seconds>', 'refresh period', (v) => Number(v), 2)
    .option('--once', 'print once and exit')
    .option('--json', 'JSON output (implies --once)')
    .action(async (name: string, o) => {
      if (!(o.interval >= 0.5)) throw new Error('--interval must be at least 0.5 seconds');
      const client = apiClient();
      const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '\n';
      for (;;) {
        const { app: a } = await client.call('getApp', { params: { name } });
        const rows = await Promise.all(
          a.instances.map(async (i) => ({
            instance: i.id,
            node: i.node,
            release: i.release,
            state: i.state,
            restarts: i.restarts,
            cpuMillicores: await latest(client, i.id, 'instance_cpu_millicores'),
            memoryBytes: await latest(client, i.id, 'instance_mem_bytes'),
          })),
        );
        const text = rows.length
          ? table(
              ['INSTANCE', 'NODE', 'RELEASE', 'STATE', 'RESTARTS', 'CPU', 'MEMORY'],
              rows.map((r) => [
                r.instance,
                r.node,
                r.release,
                r.state,
                r.restarts,
                r.cpuMillicores === null ? '-' : `${Math.round(r.cpuMillicores)}m`,
                bytes(r.memoryBytes),
              ]),
            )
          : `app ${name} has no instances`;
        if (o.once || o.json) return print(o, { app: name, instances: rows }, () => text);
        process.stdout.write(
          `${clear}${new Date().toISOString()}  ${name}, every ${o.interval}s, Ctrl-C to quit\n\n${text}\n`,
        );
        await new Promise((res) => setTimeout(res, o.interval * 1000));
      }
    });
}
