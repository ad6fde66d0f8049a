// The app definition the guest init reads (/grim/app on the root disk, or grim-meta/app on the metadata
// drive): the argv, WorkingDir, User and the image's Env, as `KEY=<base64>` lines that
// scripts/lib/app-definition.sh reads. Data only: nothing in it is ever run as shell.
import type { RuntimeConfig } from '../../oci/image-config.ts';
import { base64, checkEnvName } from '../env-file.ts';

export interface AppDefinition {
  argv: string[];
  env: Record<string, string>;
  workingDir: string;
  user: string;
  /** Seconds between SIGTERM and SIGKILL when the VM is asked to stop. */
  stopGraceSeconds?: number;
}

export function appDefinitionFromImage(config: RuntimeConfig): AppDefinition {
  return { argv: config.argv, env: config.envMap, workingDir: config.workingDir, user: config.user };
}

/** A tarball app on a runtime: its declared command, run in /app. */
export function appDefinitionForTarball(command: string[]): AppDefinition {
  return {
    argv: command,
    env: { PATH: '/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    workingDir: '/app',
    user: '',
  };
}

export function renderAppDefinition(app: AppDefinition): string {
  if (app.argv.length === 0) throw new Error('the app has no command (image Entrypoint/Cmd are both empty)');
  const grace = app.stopGraceSeconds ?? 10;
  if (!Number.isInteger(grace) || grace < 0)
    throw new Error(`stop grace must be whole seconds, got ${grace}`);
  const lines = [
    '# grim app definition: KEY=<base64 value> lines, read by /sbin/grim-init (scripts/lib/app-definition.sh)',
    `workdir=${base64(app.workingDir || '/')}`,
    `user=${base64(app.user)}`,
    `stop_grace=${base64(String(grace))}`,
    ...Object.entries(app.env).map(([name, value]) => `env=${base64(`${checkEnvName(name)}=${value}`)}`),
    ...app.argv.map((arg) => `arg=${base64(arg)}`),
  ];
  return `${lines.join('\n')}\n`;
}
