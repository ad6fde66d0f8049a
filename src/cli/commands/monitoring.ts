// grim monitoring release|plan|enable|status|disable: the Cortex/Loki/Tempo/Grafana stack grim deploys.
import type { Command } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { apiClient } from '../context.ts';
import { print, table, when } from '../output.ts';

const list = (v: string) => v.split(',').filter(Boolean);

function enableBody(o: { group: string; node?: string; tenant?: string; components?: string }) {
  return {
    group: o.group,
    ...(o.node ? { node: o.node } : {}),
    ...(o.tenant ? { tenant: o.tenant } : {}),
    ...(o.components ? { components: list(o.components) } : {}),
  };
}

function describePlan(p: any, files: boolean): string {
  const lines = [
    `monitoring of ${p.environment} on ${p.plan.node} (${p.plan.address}), tenant ${p.plan.endpoints.tenant}`,
    table(
      ['COMPONENT', 'VERSION', 'PORTS', 'STORAGE', 'FILES'],
      p.plan.components.map((c: any) => [
        c.component,
        c.release.version,
        Object.entries(c.ports)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        c.bucket ? `s3 bucket ${c.bucket}` : 'local directory',
        c.files.length,
      ]),
    ),
  ];
  const e = p.plan.endpoints;
  lines.push(
    `remote write -> ${e.remoteWriteUrl ?? '-'}`,
    `logs -> ${e.lokiUrl ?? '-'}`,
    `traces -> ${e.otlpEndpoint ?? '-'}`,
    `grafana: ${e.grafanaUrl ?? '-'}`,
  );
  if (p.plan.problems.length) lines.push('problems:', ...p.plan.problems.map((x: string) => `  ${x}`));
  if (files)
    for (const c of p.plan.components)
      for (const f of c.files) lines.push('', `--- ${c.component}: ${f.name}`, f.content.trimEnd());
  return lines.join('\n');
}

export function registerMonitoringCommands(program: Command) {
  const mon = program
    .command('monitoring')
    .description('the monitoring stack (Cortex, Loki, Tempo, Grafana) grim deploys and feeds');
  const rel = mon
    .command('release')
    .description('component releases grim may install (SHA-256 recorded by grim)');
  rel
    .command('add <component> <version>')
    .description('component: cortex, loki, tempo or grafana')
    .option('--path <file>', 'a binary or release tarball (.tar.gz) on the control node')
    .option('--url <url>', 'a binary or release tarball (.tar.gz) to download')
    .option('--sha256 <hex>', 'the SHA-256 you expect of the file')
    .option('--entry <path>', 'for a tarball: its executable, e.g. grafana-v11.3.0/bin/grafana')
    .option('--json')
    .action(async (component, version, o) => {
      const r = await apiClient().call('addMonitoringRelease', {
        body: {
          component,
          version,
          ...(o.path ? { path: o.path } : {}),
          ...(o.url ? { url: o.url } : {}),
          ...(o.sha256 ? { sha256: o.sha256 } : {}),
          ...(o.entry ? { entry: o.entry } : {}),
        },
      });
      print(o, r, () => `recorded ${component} ${version}: sha256 ${r.release.sha256}, ${r.release.kind}`);
    });
  rel
    .command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listMonitoringReleases', {});
      print(o, r, () =>
        table(
          ['COMPONENT', 'VERSION', 'KIND', 'ENTRY', 'SHA256', 'RECORDED'],
          r.releases.map((x) => [x.component, x.version, x.kind, x.entry, x.sha256, when(x.recordedAt)]),
        ),
      );
    });
  const target = (c: Command) =>
    c
      .requiredOption('--group <group>', 'the node group to run the stack on')
      .option('--node <node>', 'a node of the group (default: the first by name)')
      .option('--tenant <tenant>', 'X-Scope-OrgID grim writes as (default grim)')
      .option('--components <list>', 'comma-separated (default: every component with a recorded release)')
      .option('--json');
  target(
    mon.command('plan').description('show every config enable would write, before anything runs'),
  ).action(async (o) => {
    const r = await apiClient().call('planMonitoring', { body: enableBody(o) });
    print(o, r, () => describePlan(r, true));
  });
  target(
    mon
      .command('enable')
      .description('deploy the stack on the group and point metrics, logs and traces at it'),
  )
    .option('--no-wait', 'return once the deploy has started')
    .action(async (o) => {
      const r = await apiClient().call('enableMonitoring', { body: enableBody(o) });
      if (!o.json) process.stdout.write(describePlan(r, false) + '\n');
      if (!o.wait) return o.json && print(o, r, () => '');
      for (;;) {
        const { stacks } = await apiClient().call('listMonitoringStacks', {});
        const s = stacks.find((x) => x.environment === r.environment);
        if (s && s.state !== 'deploying') {
          if (o.json) print(o, s, () => '');
          else process.stdout.write(`${s.state}${s.stateReason ? `: ${s.stateReason}` : ''}\n`);
          if (s.state !== 'ready') process.exitCode = 1;
          return;
        }
        await delay(1000);
      }
    });
  mon
    .command('status')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listMonitoringStacks', {});
      print(o, r, () =>
        r.stacks.length
          ? table(
              ['ENV', 'GROUP', 'NODE', 'STATE', 'VERSIONS', 'STORAGE', 'GRAFANA'],
              r.stacks.map((s) => [
                s.environment,
                s.group,
                s.node,
                s.state + (s.stateReason ? ` (${s.stateReason.split('\n')[0]})` : ''),
                Object.entries(s.versions)
                  .map(([c, v]) => `${c} ${v}`)
                  .join(', '),
                s.storage,
                s.endpoints.grafanaUrl,
              ]),
            )
          : 'monitoring is not enabled (grim monitoring enable --group G)',
      );
    });
  mon
    .command('disable')
    .requiredOption('--env <environment>')
    .description('stop and remove the stack of an environment (data and buckets stay)')
    .action(async (o) => {
      await apiClient().call('disableMonitoring', { params: { environment: o.env } });
      process.stdout.write(`monitoring of ${o.env} disabled\n`);
    });
}
