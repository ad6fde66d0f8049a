import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/grim-process.ts';

export const DIST = join(REPO, 'src/web/dist');

/** Builds the web UI once if src/web/dist is missing (`npm run build:web` rebuilds it by hand). */
export function ensureWebBuilt(): void {
  if (existsSync(join(DIST, 'index.html'))) return;
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'src/web/vite.config.ts'], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`web UI build failed:\n${r.stdout}\n${r.stderr}`);
}
