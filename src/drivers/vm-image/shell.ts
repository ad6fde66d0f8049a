// Shell quoting for the files grim writes for the guest (app.sh, env.sh): every value single-quoted.

/** `value` as one single-quoted POSIX sh word. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEnvName(name: string): string {
  if (!ENV_NAME.test(name)) throw new Error(`environment variable name ${JSON.stringify(name)} is not valid`);
  return name;
}

/** `export 'NAME=value'` lines, in the given order. */
export function exportLines(env: Record<string, string>, indent = ''): string {
  return Object.entries(env)
    .map(([name, value]) => `${indent}export ${shq(`${checkEnvName(name)}=${value}`)}\n`)
    .join('');
}
