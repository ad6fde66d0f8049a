// One cold grim fan-out in a process of its own (the whole-process row of bench/fanout.ts).
// argv: TARGETS_JSON_FILE PRIVATE_KEY_FILE COUNT. Prints one JSON line: {"seconds", "ok", "error"?}.
import { readFileSync } from 'node:fs';
import type { SshTarget } from '../../src/ssh/pool.ts';
import { grimCold } from './fanout-grim.ts';

const [targetsFile, keyFile, count] = process.argv.slice(2);
const targets = (JSON.parse(readFileSync(targetsFile, 'utf8')) as SshTarget[]).slice(0, Number(count));
console.log(JSON.stringify(await grimCold(readFileSync(keyFile, 'utf8'), targets)));
