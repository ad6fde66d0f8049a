// Environment files grim writes for node scripts and guests: `NAME=<value in base64>` lines, read by
// scripts/lib/env.sh (load_env). Values arrive byte for byte and are never interpreted by a shell.
import { isEnvName } from '../ssh/quote.ts';

/** One `NAME=<base64>` line per variable, sorted by name, without a trailing newline. */
export function envFile(env: Record<string, string>): string {
  return Object.entries(env)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${checkEnvName(name)}=${base64(value)}`)
    .join('\n');
}

/** envFile's inverse (for checks and tests): the variables of an environment file. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = Buffer.from(line.slice(eq + 1), 'base64').toString('utf8');
  }
  return env;
}

export function checkEnvName(name: string): string {
  if (!isEnvName(name)) throw new Error(`environment variable name ${JSON.stringify(name)} is not valid`);
  return name;
}

export function base64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}
