// Loaded with `node --import` by tests: prints every module URL the process loaded to stderr at exit,
// one "loaded <url>" line each (tests of what a command pulls in).
import { registerHooks } from 'node:module';

const loaded: string[] = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});
process.on('exit', () => process.stderr.write(loaded.map((u) => `loaded ${u}\n`).join('')));
