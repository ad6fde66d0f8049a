import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { collect, print, table, when } from '../output.ts';

/** `dockerfile:PATH` (default path Dockerfile) or `tarball` (with --runtime and --command). */
function buildOf(o: Record<string, any>) {
  const b = String(o.build ?? 'dockerfile:Dockerfile');
  if (b === 'tarball')
    return {
      kind: 'tarball' as const,
      runtime: String(o.runtime ?? ''),
      command: (o.command as string[]) ?? [],
    };
  if (b === 'dockerfile' || b.startsWith('dockerfile:'))
    return { kind: 'dockerfile' as const, dockerfile: b.slice('dockerfile:'.length) || 'Dockerfile' };
  throw new Error(`--build must be dockerfile:PATH or tarball, not "${b}"`);
}

function buildArgs(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 1) throw new Error(`--build-arg expects NAME=VALUE, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

export function registerPipelineCommands(program: Command) {
  const p = program.command('pipeline').description('pipelines: git push → Buildbot build → release');
  p.command('create <name>')
    .description('define a pipeline (then `grim pipeline config` shows and `grim pipeline apply` applies it)')
    .requiredOption('--repo <url>', 'git repository (https, ssh, git, or file:// below the allowed roots)')
    .option('--branch <branch>', 'branch to build', 'main')
    .requiredOption('--app <app>', 'the app each successful build is deployed to')
    .option('--build <how>', 'dockerfile:PATH or tarball', 'dockerfile:Dockerfile')
    .option('--runtime <runtime>', 'runtime image of a tarball app')
    .option('--command <arg>', "a tarball app's command, one argument per option (repeatable)", collect)
    .option('--build-arg <NAME=value>', 'Dockerfile build argument (repeatable)', collect)
    .option('--test <command>', 'run with sh -c in the checkout before anything is pushed')
    .option('--poll <seconds>', 'poll the branch every N seconds (0: webhooks only)', (v) => Number(v))
    .option('--webhook <provider>', 'github, gitea or gitlab: also accept signed push webhooks')
    .option('--json', 'JSON output')
    .action(async (name, o) => {
      const r = await apiClient().call('createPipeline', {
        body: {
          name,
          repo: o.repo,
          branch: o.branch,
          app: o.app,
          build: buildOf(o),
          ...(buildArgs(o.buildArg) ? { buildArgs: buildArgs(o.buildArg) } : {}),
          ...(o.test ? { testCommand: o.test } : {}),
          ...(o.poll !== undefined ? { pollSeconds: o.poll } : {}),
          ...(o.webhook ? { webhook: o.webhook } : {}),
        },
      });
      print(o, r, () =>
        [
          `pipeline ${r.pipeline.name}: ${r.pipeline.repo} ${r.pipeline.branch} -> app ${r.pipeline.app}`,
          ...(r.webhookSecret
            ? [`webhook ${r.pipeline.webhook?.url} secret (shown once): ${r.webhookSecret}`]
            : []),
          'review with `grim pipeline config`, then `grim pipeline apply`',
        ].join('\n'),
      );
    });
  p.command('list')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('listPipelines');
      print(o, r, () =>
        table(
          ['NAME', 'APP', 'REPO', 'BRANCH', 'BUILD', 'POLL', 'WEBHOOK'],
          r.pipelines.map((x) => [
            x.name,
            x.app,
            x.repo,
            x.branch,
            x.build.kind === 'dockerfile'
              ? `dockerfile:${x.build.dockerfile}`
              : `tarball (${x.build.runtime})`,
            x.pollSeconds ? `${x.pollSeconds}s` : '-',
            x.webhook?.provider ?? '-',
          ]),
        ),
      );
    });
  p.command('delete <name>').action(async (name) => {
    await apiClient().call('deletePipeline', { params: { name } });
    process.stdout.write(`deleted pipeline ${name} (apply the configuration to stop building it)\n`);
  });
  p.command('config')
    .description(
      "show Buildbot's master.cfg as grim generates it (and whether it differs from the applied one)",
    )
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('getBuildConfig');
      print(
        o,
        r,
        () => `${r.generated}\n# ${r.pending ? 'NOT APPLIED YET: grim pipeline apply' : 'applied'}`,
      );
    });
  p.command('apply')
    .description('check the generated master.cfg with buildbot checkconfig, then start or reload Buildbot')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('applyBuildConfig');
      print(o, r, () => (r.started ? 'Buildbot started' : r.reloaded ? 'Buildbot reloaded' : 'applied'));
    });
  p.command('build <name>')
    .description('build the branch head (or --revision) now')
    .option('--revision <commit>')
    .action(async (name, o) => {
      const r = await apiClient().call('startPipelineBuild', {
        params: { name },
        body: o.revision ? { revision: o.revision } : {},
      });
      process.stdout.write(`build requested (buildset ${r.buildsetId})\n`);
    });
  p.command('builds <name>')
    .description("the pipeline's latest builds and the releases they made")
    .option('--json', 'JSON output')
    .action(async (name, o) => {
      const r = await apiClient().call('listPipelineBuilds', { params: { name } });
      print(o, r, () =>
        table(
          ['#', 'STATE', 'COMMIT', 'DIGEST', 'RELEASE', 'STARTED', 'SUMMARY'],
          r.builds.map((b) => [
            b.number,
            b.state,
            b.commit?.slice(0, 12),
            b.digest?.slice(0, 19),
            b.release,
            when(b.startedAt),
            b.summary,
          ]),
        ),
      );
    });
  p.command('log <name> <number>')
    .description('the steps of one build with their output')
    .option('--json', 'JSON output')
    .action(async (name, number, o) => {
      const r = await apiClient().call('getPipelineBuildLog', { params: { name, number: String(number) } });
      print(o, r, () => r.steps.map((s) => `== ${s.name}: ${s.state} (${s.summary})\n${s.log}`).join('\n'));
    });
  p.command('backup')
    .description("restic backup of the Buildbot master's state volume (and the registry's, if on a volume)")
    .option('--target <name>', 'backup target (default: the only one)')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('backupBuildVolumes', { body: o.target ? { target: o.target } : {} });
      print(o, r, () =>
        r.backups
          .map((b) => `${b.volume}: snapshot ${b.snapshotId.slice(0, 8)} on ${b.target}, ${b.bytes} bytes`)
          .join('\n'),
      );
    });
  p.command('settings')
    .description('show the build settings; with options, change them (applied at once when Buildbot runs)')
    .option('--worker-nodes <nodes>', 'comma-separated nodes that run Buildbot workers ("" for none)')
    .option('--registry-storage <where>', 'directory, volume, or s3:ENVIRONMENT/BUCKET (SeaweedFS)')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const api = apiClient();
      let settings = (await api.call('getBuildSettings')).settings;
      let note = '';
      if (o.workerNodes !== undefined || o.registryStorage !== undefined) {
        const r = await api.call('putBuildSettings', {
          body: {
            workerNodes:
              o.workerNodes === undefined
                ? settings.workerNodes
                : String(o.workerNodes)
                    .split(',')
                    .map((n) => n.trim())
                    .filter(Boolean),
            registryStorage:
              o.registryStorage === undefined ? settings.registryStorage : storageOf(o.registryStorage),
          },
        });
        settings = r.settings;
        note = r.applied
          ? '\napplied: Buildbot runs with these settings'
          : '\nsaved (applied with the next `grim pipeline apply`)';
      }
      const st = settings.registryStorage;
      print(
        o,
        { settings },
        () =>
          [
            `worker nodes: ${settings.workerNodes.join(', ') || "- (grim's own worker)"}`,
            `registry storage: ${st.kind === 's3' ? `s3:${st.environment}/${st.bucket}` : st.kind}`,
          ].join('\n') + note,
      );
    });
}

/** `directory`, `volume` or `s3:ENVIRONMENT/BUCKET`. */
function storageOf(v: string) {
  if (v === 'directory' || v === 'volume') return { kind: v } as const;
  const m = /^s3:([^/]+)\/(.+)$/.exec(v);
  if (m) return { kind: 's3' as const, environment: m[1], bucket: m[2] };
  throw new Error(`--registry-storage must be directory, volume or s3:ENVIRONMENT/BUCKET, not "${v}"`);
}
