import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { apiClient } from '../context.ts';
import { collect, print, table, when } from '../output.ts';
import { followJob } from './jobs.ts';
import { parseVolumeFlag } from '../../domain/volumes/spec.ts';
import { RUNTIMES, type Runtime } from '../../domain/runtimes.ts';
import {
  DEFAULT_RUNTIME_BY_SOURCE,
  FAILOVER_MODES,
  HEALTH_CHECK_TYPES,
  NETWORK_MODES,
  SOURCES_BY_RUNTIME,
  type Failover,
  type HealthCheckType,
  type VmNetworkMode,
} from '../../domain/apps/sources.ts';
import type { AppFieldsBody } from '../../api/routes/apps.ts';

/** NAME=VALUE pairs (repeatable); for secrets NAME=@file reads the value from a file. */
function pairs(list: string[] | undefined, files: boolean): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 1) throw new Error(`expected NAME=VALUE, got "${item}"`);
    const v = item.slice(i + 1);
    out[item.slice(0, i)] =
      files && v.startsWith('@') ? readFileSync(v.slice(1), 'utf8').replace(/\n$/, '') : v;
  }
  return out;
}

function ports(list: string[] | undefined) {
  return list?.map((p) => {
    const [name, port] = p.includes(':') ? p.split(':') : ['http', p];
    return { name, port: Number(port) };
  });
}

/** The health check from --health (http:/path, tcp, command:CMD) and its timing options. */
function healthCheck(o: Record<string, any>): AppFieldsBody['health'] {
  const [type, arg] = String(o.health).split(':', 2) as [string, string | undefined];
  if (!(HEALTH_CHECK_TYPES as readonly string[]).includes(type))
    throw new Error(
      `--health: expected ${HEALTH_CHECK_TYPES.join(', ')} (e.g. http:/healthz), got "${o.health}"`,
    );
  return {
    type: type as HealthCheckType,
    ...(type === 'http' ? { path: arg ?? '/' } : type === 'command' ? { command: arg ?? '' } : {}),
    ...(o.healthInterval ? { intervalSec: Number(o.healthInterval) } : {}),
    ...(o.healthTimeout ? { timeoutSec: Number(o.healthTimeout) } : {}),
    ...(o.healthRetries ? { retries: Number(o.healthRetries) } : {}),
  };
}

/** The source from --start/--image/--tarball (at most one), and the runtime it implies when none is given. */
function sourceOf(o: Record<string, any>): Pick<AppFieldsBody, 'source' | 'runtime'> {
  const given = (['start', 'image', 'tarball'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) throw new Error(`give one source: --${given.join(' or --')}`);
  const runtime = o.runtime as Runtime | undefined;
  if (o.start) {
    const source = {
      kind: 'script' as const,
      start: readFileSync(o.start, 'utf8'),
      ...(o.stop ? { stop: readFileSync(o.stop, 'utf8') } : {}),
      ...(o.status ? { status: readFileSync(o.status, 'utf8') } : {}),
    };
    return { source, runtime: runtime ?? DEFAULT_RUNTIME_BY_SOURCE.script };
  }
  if (o.image)
    return { source: { kind: 'image', image: o.image }, runtime: runtime ?? DEFAULT_RUNTIME_BY_SOURCE.image };
  if (o.tarball) {
    if (!o.tarballRuntime || !o.command?.length)
      throw new Error('--tarball needs --tarball-runtime <name> and --command <arg> (repeatable, in order)');
    return {
      source: { kind: 'tarball', tarball: o.tarball, runtime: o.tarballRuntime, command: o.command },
      runtime: runtime ?? DEFAULT_RUNTIME_BY_SOURCE.tarball,
    };
  }
  return runtime ? { runtime } : {};
}

type VolumeBody = NonNullable<AppFieldsBody['volumes']>[number];
/** --volume name:size:mount[:local|shared]; the server checks the values, the CLI only the shape. */
function volumeFlag(flag: string): VolumeBody {
  const v = parseVolumeFlag(flag);
  if (v.kind !== undefined && v.kind !== 'local' && v.kind !== 'shared')
    throw new Error(`--volume ${flag}: the kind after the mount is local or shared`);
  return {
    name: String(v.name ?? ''),
    size: String(v.size ?? ''),
    mount: String(v.mount ?? ''),
    ...(v.kind ? { kind: v.kind } : {}),
  };
}

/** Options shared by create and deploy, as the API's typed body; only the ones given are sent. */
function appFields(o: Record<string, any>): AppFieldsBody {
  const f: AppFieldsBody = { ...sourceOf(o) };
  if (o.replicas !== undefined) f.replicas = Number(o.replicas);
  for (const k of ['size', 'cpu', 'memory', 'disk'] as const) if (o[k] !== undefined) f[k] = o[k];
  if (o.failover !== undefined) f.failover = o.failover as Failover;
  if (o.network !== undefined) f.network = o.network as VmNetworkMode;
  if (o.maxParallel !== undefined) f.maxParallel = Number(o.maxParallel);
  if (o.port) f.ports = ports(o.port);
  if (o.volume) f.volumes = (o.volume as string[]).map(volumeFlag);
  const env = pairs(o.env, false);
  if (env) f.env = env;
  const secrets = pairs(o.secret, true);
  if (secrets) f.secrets = secrets;
  if (o.health) f.health = healthCheck(o);
  return f;
}

const sourcesOf = (r: Runtime) => SOURCES_BY_RUNTIME[r].join('/');

function fieldOptions(c: Command) {
  return c
    .option('--replicas <n>', 'number of instances')
    .option('--size <name>', 'a T-shirt size (see grim size list)')
    .option('--cpu <q>', 'CPU per instance, e.g. 250m or 1.5')
    .option('--memory <q>', 'memory per instance, e.g. 512Mi')
    .option('--disk <q>', 'disk per instance, e.g. 2Gi')
    .addOption(
      new Option(
        '--runtime <kind>',
        `how instances run (${RUNTIMES.map((r) => `${r}: ${sourcesOf(r)}`).join(', ')}); default from the source`,
      ).choices(RUNTIMES),
    )
    .option('--start <file>', 'script source: the start script (runs in the foreground)')
    .option('--stop <file>', 'script source: optional stop script')
    .option('--status <file>', 'script source: optional status script (exit 0 = well)')
    .option('--image <ref>', 'image source: OCI image reference')
    .option(
      '--tarball <url|path>',
      'tarball source (microVMs): the app tarball, unpacked onto --tarball-runtime',
    )
    .option('--tarball-runtime <name>', 'tarball source: the runtime image it runs on (GRIM_VM_RUNTIMES)')
    .option(
      '--command <arg>',
      'tarball source: the start command, one argument per flag (repeatable)',
      collect,
    )
    .addOption(
      new Option(
        '--network <mode>',
        'microVM runtimes: nat (ports on the node) or bridged (LAN IP from an ip-pool)',
      ).choices(NETWORK_MODES),
    )
    .option('--port <name:port>', 'a port the app listens on (repeatable)', collect)
    .option(
      '--volume <name:size:mount[:shared]>',
      'a persistent volume, e.g. data:10Gi:/var/lib/app (repeatable)',
      collect,
    )
    .option('--env <NAME=value>', 'environment variable (repeatable)', collect)
    .option('--secret <NAME=value|NAME=@file>', 'secret, sealed at rest, never shown (repeatable)', collect)
    .option('--health <spec>', 'http:/path, tcp, or command:CMD')
    .option('--health-interval <s>')
    .option('--health-timeout <s>')
    .option('--health-retries <n>')
    .addOption(new Option('--failover <mode>', 'report (default) or reschedule').choices(FAILOVER_MODES))
    .option('--max-parallel <n>', 'instances replaced at a time');
}

async function follow(
  r: { jobId: string; release: number; warnings: string[] },
  o: { wait?: boolean; json?: boolean },
) {
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(`release ${r.release}, job ${r.jobId}\n`);
  if (o.wait !== false) process.exitCode = await followJob(r.jobId, !!o.json);
}

/** One app (show) or every app (list): settings, instances and releases. */
async function showApps(name: string | undefined, o: { json?: boolean }) {
  const c = apiClient();
  const list = name ? [(await c.call('getApp', { params: { name } })).app] : (await c.call('listApps')).apps;
  print(o, name ? list[0] : list, () =>
    list
      .map((a) =>
        [
          `${a.name} (${a.environment}/${a.group}): ${a.runtime}, ${a.replicas} x ${a.size ?? 'custom'} ` +
            `(${a.resources.cpu} CPU, ${a.resources.memory}), release ${a.currentRelease ?? '-'}` +
            (a.rollout ? `, last ${a.rollout.kind} ${a.rollout.status}` : '') +
            (a.secrets.length ? `, secrets: ${a.secrets.join(', ')}` : ''),
          table(
            ['INSTANCE', 'RELEASE', 'NODE', 'STATE', 'PORTS', 'RESTARTS'],
            a.instances.map((i) => [
              i.id,
              i.release,
              i.node,
              i.state,
              Object.entries(i.ports)
                .map(([k, v]) => `${k}=${i.address}:${v}`)
                .join(' '),
              i.restarts,
            ]),
          ),
          table(
            ['RELEASE', 'KIND', 'STATUS', 'BY', 'AT'],
            a.releases.map((r) => [
              r.number + (r.rollbackOf ? ` (of ${r.rollbackOf})` : ''),
              r.kind,
              r.status,
              r.createdBy,
              when(r.createdAt),
            ]),
          ),
        ].join('\n'),
      )
      .join('\n\n'),
  );
}

export function registerAppCommands(program: Command) {
  const app = program.command('app').description('apps: create, deploy, scale, roll back, delete');
  fieldOptions(app.command('create <name>').description('define an app (deploy runs it)'))
    .requiredOption('--environment <env>')
    .requiredOption('--group <group>', 'the node group it runs on')
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('createApp', {
        body: { name, environment: o.environment, group: o.group, ...appFields(o) },
      });
      print(o, r, () => `app ${r.app.name} created; deploy it with: grim app deploy ${r.app.name}`);
    });
  fieldOptions(app.command('deploy <name>').description('new release with these changes, rolled out'))
    .option('--accept-overcommit', 'go ahead although nodes would be overcommitted (audited)')
    .option('--no-wait', 'return once the rollout has started')
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('deployApp', {
        params: { name },
        body: { ...appFields(o), ...(o.acceptOvercommit ? { acceptOvercommit: true } : {}) },
      });
      await follow(r, o);
    });
  app
    .command('scale <name> <replicas>')
    .option('--accept-overcommit')
    .option('--no-wait')
    .option('--json')
    .action(async (name, replicas, o) => {
      const r = await apiClient().call('scaleApp', {
        params: { name },
        body: { replicas: Number(replicas), ...(o.acceptOvercommit ? { acceptOvercommit: true } : {}) },
      });
      await follow(r, o);
    });
  app
    .command('rollback <name> [release]')
    .description('return to an earlier release (default: the one before the current)')
    .option('--accept-overcommit')
    .option('--restore-volumes', "also return local volumes to that release's snapshot")
    .option('--no-wait')
    .option('--json')
    .action(async (name, release, o) => {
      const r = await apiClient().call('rollbackApp', {
        params: { name },
        body: {
          ...(release ? { release: Number(release) } : {}),
          ...(o.acceptOvercommit ? { acceptOvercommit: true } : {}),
          ...(o.restoreVolumes ? { restoreVolumes: true } : {}),
        },
      });
      await follow(r, o);
    });
  app
    .command('list')
    .description('every app with its instances and releases')
    .option('--json')
    .action((o) => showApps(undefined, o));
  app
    .command('show <name>')
    .description('one app: settings, instances, releases, last rollout')
    .option('--json')
    .action((name, o) => showApps(name, o));
  app
    .command('status [name]')
    .description('show <name>, or list without one (kept for scripts)')
    .option('--json')
    .action((name, o) => showApps(name, o));
  app
    .command('logs <name>')
    .option('--tail <n>', 'lines per instance', '100')
    .option('-f, --follow', 'keep printing new lines (polls every 2 s)')
    .action(async (name, o) => {
      const seen = new Map<string, string>();
      for (;;) {
        const r = await apiClient().call('appLogs', { params: { name }, query: { tail: Number(o.tail) } });
        for (const l of r.logs) {
          const before = seen.get(l.instance) ?? '';
          const fresh = l.text.startsWith(before) ? l.text.slice(before.length) : l.text;
          seen.set(l.instance, l.text);
          for (const line of fresh.split('\n').filter(Boolean))
            process.stdout.write(`${l.instance}: ${line}\n`);
          if (l.error) process.stderr.write(`${l.instance}: (${l.error})\n`);
        }
        if (!o.follow) return;
        await new Promise((res) => setTimeout(res, 2000));
      }
    });
  app
    .command('delete <name>')
    .option('--delete-volumes', 'also delete its volumes (kept by default, listed as orphaned)')
    .option('--no-wait')
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('deleteApp', {
        params: { name },
        ...(o.deleteVolumes ? { query: { deleteVolumes: true } } : {}),
      });
      process.stderr.write(`deleting ${name}, job ${r.jobId}\n`);
      if (o.wait !== false) process.exitCode = await followJob(r.jobId, !!o.json);
    });

  const size = program.command('size').description('T-shirt sizes for apps');
  size
    .command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listSizes');
      print(o, r, () =>
        table(
          ['NAME', 'CPU', 'MEMORY', 'DISK'],
          r.sizes.map((s) => [s.name, s.cpu, s.memory, s.disk]),
        ),
      );
    });
  size
    .command('set <name>')
    .alias('create')
    .description('create or change a size')
    .requiredOption('--cpu <q>')
    .requiredOption('--memory <q>')
    .requiredOption('--disk <q>')
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('putSize', {
        params: { name },
        body: { cpu: o.cpu, memory: o.memory, disk: o.disk },
      });
      print(o, r, () => r.size.description);
    });
  size.command('delete <name>').action(async (name) => {
    await apiClient().call('deleteSize', { params: { name } });
    process.stdout.write(`deleted size ${name}\n`);
  });
}
