/** grim's version, from the package.json it was installed with (what `grim upgrade` and `/readyz` report). */
import { readFileSync } from 'node:fs';

export const GRIM_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
