import { chmodSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  server: string;
  token?: string;
  caFile?: string;
}

export const configPath = () =>
  process.env.GRIM_CLI_CONFIG ??
  join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'grim', 'cli.json');

/** Saved login, overridden by GRIM_SERVER / GRIM_TOKEN / GRIM_CA_FILE (for scripts). */
export function loadCliConfig(): CliConfig {
  let saved: Partial<CliConfig> = {};
  try {
    saved = JSON.parse(readFileSync(configPath(), 'utf8'));
  } catch {
    /* not logged in yet */
  }
  return {
    server: process.env.GRIM_SERVER ?? saved.server ?? 'http://127.0.0.1:8080',
    token: process.env.GRIM_TOKEN ?? saved.token,
    caFile: process.env.GRIM_CA_FILE ?? saved.caFile,
  };
}

export function saveCliConfig(c: CliConfig) {
  const p = configPath();
  mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
  writeFileSync(p, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  chmodSync(p, 0o600);
}

export function clearCliConfig() {
  rmSync(configPath(), { force: true });
}
