import type { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  serviceSpecProblems,
  settingsFile,
  systemdUnit,
  type ServiceKind,
  type ServiceSpec,
} from '../../domain/service-files.ts';
import { paramProblems, scriptFor, SCRIPTS_DIR } from '../../scripts/loader.ts';
import { run } from '../../lab/run.ts';
import { GRIM_ROOT } from '../../server/version.ts';
import {
  detectServiceManager,
  openrcManager,
  processManager,
  systemdManager,
  type ServiceManagerKind,
} from '../../services/upgrade/service-manager.ts';
import { existingMasterKey, localConfig } from './backup.ts';
import { print } from '../output.ts';

/** Settings `grim install-service` copies from its options (else from the environment) into the service. */
const SETTINGS: Array<[option: string, env: string]> = [
  ['listen', 'GRIM_LISTEN'],
  ['databaseUrl', 'GRIM_DATABASE_URL'],
  ['tlsCert', 'GRIM_TLS_CERT'],
  ['tlsKey', 'GRIM_TLS_KEY'],
];

function defaultKind(): ServiceKind {
  if (existsSync('/run/systemd/system') || existsSync('/lib/systemd/systemd')) return 'systemd';
  if (existsSync('/sbin/openrc-run')) return 'openrc';
  throw new Error('neither systemd nor OpenRC found: say which with --kind systemd|openrc');
}

/** The npm prefix of this installation (<prefix>/lib/node_modules/grim), when grim was installed by npm. */
function installPrefix(): string | undefined {
  const m = /^(.*)\/lib\/node_modules\/grim$/.exec(GRIM_ROOT);
  return m?.[1];
}

export function registerInstallCommands(program: Command) {
  program
    .command('install-service')
    .description('run this grim as a service: a systemd unit (Debian/Ubuntu) or an OpenRC service (Alpine)')
    .option('--kind <kind>', 'systemd or openrc (default: what this machine runs)')
    .option('--user <name>', 'system user the server runs as (created when missing)', 'grim')
    .option('--data-dir <dir>', 'data directory', '/var/lib/grim')
    .option('--listen <host:port>', 'address to listen on (GRIM_LISTEN)')
    .option('--database-url <url>', 'postgres://... instead of SQLite (GRIM_DATABASE_URL)')
    .option('--tls-cert <file>', 'TLS certificate (GRIM_TLS_CERT)')
    .option('--tls-key <file>', 'TLS key (GRIM_TLS_KEY)')
    .option('--no-enable', 'write the files only; do not enable and start the service')
    .option('--root <dir>', 'stage the files under this directory (an image, a test) instead of /')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const env: Record<string, string> = { GRIM_DATA_DIR: resolve(o.dataDir) };
      for (const [opt, name] of SETTINGS) {
        const v = (o as Record<string, string | undefined>)[opt] ?? process.env[name];
        if (v) env[name] = v;
      }
      const spec: ServiceSpec = {
        kind: (o.kind ?? defaultKind()) as ServiceKind,
        grimBin: join(GRIM_ROOT, 'bin', 'grim'),
        user: o.user,
        env,
      };
      const problems = serviceSpecProblems(spec);
      if (problems.length) throw new Error(`cannot install the service:\n  - ${problems.join('\n  - ')}`);
      const tmp = mkdtempSync(join(tmpdir(), 'grim-service-'));
      try {
        const service =
          spec.kind === 'systemd' ? join(tmp, 'grim.service') : join(SCRIPTS_DIR, 'control', 'grim.openrc');
        if (spec.kind === 'systemd') writeFileSync(service, systemdUnit(spec));
        writeFileSync(join(tmp, 'settings'), settingsFile(spec), { mode: 0o600 });
        const scriptEnv: Record<string, string> = {
          KIND: spec.kind,
          SERVICE_SOURCE: service,
          SETTINGS_SOURCE: join(tmp, 'settings'),
          RUN_USER: spec.user,
          DATA_DIR: env.GRIM_DATA_DIR,
          ENABLE: o.enable && !o.root ? '1' : '0',
          ...(o.root ? { ROOT: resolve(o.root) } : {}),
        };
        const script = scriptFor('control/install-service');
        const bad = paramProblems(script, scriptEnv);
        if (bad.length) throw new Error(bad.join('; '));
        const { stdout } = await run('sh', [script.path], { env: scriptEnv });
        const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
        print(o, result, () =>
          [
            `${spec.kind} service written: ${String(result.service)} (settings in ${String(result.settings)})`,
            result.enabled
              ? `enabled and started; logs: ${spec.kind === 'systemd' ? 'journalctl -u grim' : 'syslog, tag grim'}`
              : 'not enabled (--no-enable or --root)',
          ].join('\n'),
        );
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

  program
    .command('upgrade <package>')
    .description(
      'install a new grim package: back up, install, migrate, wait for /readyz; roll back by itself when it is not ready',
    )
    .option('--prefix <dir>', 'npm prefix grim is installed under (default: this installation)')
    .option('--service <kind>', 'systemd, openrc or process (default: detected)')
    .option('--url <url>', 'where the server answers /readyz (default http://GRIM_LISTEN)')
    .option('--timeout <seconds>', 'how long the new version may take to become ready', '60')
    .option('--offline', 'npm installs from its cache only')
    .option('--data-dir <dir>', 'data directory (env GRIM_DATA_DIR)')
    .option('--database-url <url>', 'postgres://... (env GRIM_DATABASE_URL)')
    .option('--json', 'JSON output')
    .action(async (pkg: string, o) => {
      const config = localConfig(o);
      const prefix = o.prefix ? resolve(o.prefix) : installPrefix();
      const problems: string[] = [];
      if (!prefix) problems.push(`grim at ${GRIM_ROOT} was not installed by npm: give --prefix`);
      const timeout = Number(o.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) problems.push('--timeout must be a positive number');
      const kind = (o.service ?? detectServiceManager()) as ServiceManagerKind;
      if (!['systemd', 'openrc', 'process'].includes(kind))
        problems.push('--service must be systemd, openrc or process');
      if (!existsSync(pkg) && !/^[@a-z0-9]/i.test(pkg)) problems.push(`no such package: ${pkg}`);
      if (problems.length) throw new Error(`cannot upgrade:\n  - ${problems.join('\n  - ')}`);
      const service =
        kind === 'systemd'
          ? systemdManager()
          : kind === 'openrc'
            ? openrcManager()
            : processManager(config.dataDir, () => join(prefix!, 'bin', 'grim'));
      const lines: string[] = [];
      const { upgrade } = await import('../../services/upgrade/upgrade.ts'); // the server side, only here
      const report = await upgrade({
        pkg,
        prefix: prefix!,
        config,
        masterKey: existingMasterKey(config.dataDir),
        service,
        url:
          o.url ??
          `${config.tlsCert ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
        readyTimeoutMs: timeout * 1000,
        offline: !!o.offline,
        print: (l) => (o.json ? lines.push(l) : process.stdout.write(l + '\n')),
      });
      if (o.json) print(o, { ...report, log: lines }, () => '');
      if (!report.ok) process.exitCode = 2;
    });
}
