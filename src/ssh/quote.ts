// POSIX shell quoting. Every value grim sends to a node goes through here: it is wrapped in single
// quotes, so `$()`, backticks, `;`, quotes and newlines reach the remote program literally.

import { InvalidCommandError } from './errors.ts';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Quote one word for a POSIX shell (dash, bash, busybox ash). NUL cannot be passed and is refused. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new InvalidCommandError(['a shell word cannot contain a NUL byte']);
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** Problems with an environment map (all of them, not just the first). Empty when it is valid. */
export function envProblems(env: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!isEnvName(name)) problems.push(`invalid environment variable name ${JSON.stringify(name)}`);
    if (typeof value !== 'string') problems.push(`environment variable ${name} must be a string`);
    else if (value.includes('\0')) problems.push(`environment variable ${name} contains a NUL byte`);
  }
  return problems;
}

/** `A='x' B='y'` — assignments usable as a command prefix. Throws InvalidCommandError listing every problem. */
export function envAssignments(env: Record<string, string>): string {
  const problems = envProblems(env);
  if (problems.length > 0) throw new InvalidCommandError(problems);
  return Object.entries(env)
    .map(([name, value]) => `${name}=${shellQuote(value)}`)
    .join(' ');
}

/** Quote a whole argv into one command line. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
