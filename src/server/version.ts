/** grim's version, from the package.json it was installed with (what `grim upgrade` and `/readyz` report). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GRIM_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The directory grim runs from: a git checkout, or <prefix>/lib/node_modules/grim when installed by npm. */
export const GRIM_ROOT: string = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
