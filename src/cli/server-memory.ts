/**
 * V8 heap settings for `grim server`, applied before any other module loads (this is main.ts's first import).
 * The server is a long-lived, mostly idle process: V8's default young generation grows to 3 x 16 MiB semi-spaces
 * after the startup burst and stays resident, which was most of the server's memory (bench/footprint.ts: 0 nodes
 * 168 -> 127 MiB, 100 nodes 229 -> 145 MiB). One MiB semi-spaces and --optimize-for-size keep the resident set
 * small; short-lived CLI commands keep V8's defaults. GRIM_SERVER_V8_DEFAULTS=1 turns this off (to compare).
 */
import { setFlagsFromString } from 'node:v8';

export const SERVER_V8_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'];

if (process.argv[2] === 'server' && process.env.GRIM_SERVER_V8_DEFAULTS !== '1')
  for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag);
