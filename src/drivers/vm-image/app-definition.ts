// The app definition the guest init sources (/grim/app.sh on the root disk, or grim-meta/app.sh on the
// metadata drive): the argv, WorkingDir, User and the image's Env, written with quoting.
import type { RuntimeConfig } from '../../oci/image-config.ts';
import { exportLines, shq } from './shell.ts';

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

export function renderAppScript(app: AppDefinition): string {
  if (app.argv.length === 0) throw new Error('the app has no command (image Entrypoint/Cmd are both empty)');
  const grace = app.stopGraceSeconds ?? 10;
  if (!Number.isInteger(grace) || grace < 0)
    throw new Error(`stop grace must be whole seconds, got ${grace}`);
  return [
    '# grim app definition (sourced by /sbin/grim-init)\n',
    `GRIM_WORKDIR=${shq(app.workingDir || '/')}\n`,
    `GRIM_USER=${shq(app.user)}\n`,
    `GRIM_STOP_GRACE=${grace}\n`,
    'grim_app_env() {\n',
    '  :\n',
    exportLines(app.env, '  '),
    '}\n',
    `set -- ${app.argv.map(shq).join(' ')}\n`,
  ].join('');
}
