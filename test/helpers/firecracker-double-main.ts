// The Firecracker double as a process, so node-side scripts can start it like the real VMM:
//   node firecracker-double-main.ts --api-sock PATH [--id ID] --record FILE [--ignore-ctrl-alt-del]
// It serves the v1.16.1 API on PATH (every request checked against the spec), appends each request to
// FILE as a JSON line, prints CONSOLE_LINE on stdout when the guest starts (the real VMM prints ttyS0 there),
// exits 0 when a SendCtrlAltDel "reboots the guest", and 143 on SIGTERM.
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CONSOLE_LINE, FirecrackerDouble } from './firecracker-double.ts';
import { loadSharedSpec } from './openapi-validator.ts';

const { values } = parseArgs({
  options: {
    'api-sock': { type: 'string' },
    id: { type: 'string' },
    record: { type: 'string' },
    'ignore-ctrl-alt-del': { type: 'boolean' },
  },
});
const socketPath = values['api-sock'];
const record = values.record;
if (!socketPath || !record) {
  process.stderr.write('usage: firecracker-double-main.ts --api-sock PATH --record FILE [--id ID]\n');
  process.exit(2);
}
const spec = await loadSharedSpec('firecracker-v1.16.1.yaml');
if (typeof spec === 'string') {
  process.stderr.write(`${spec}\n`);
  process.exit(2);
}
const double = await FirecrackerDouble.start(spec, {
  socketPath,
  instanceId: values.id,
  ctrlAltDelExits: !values['ignore-ctrl-alt-del'],
  onRequest: (r) => {
    appendFileSync(record, `${JSON.stringify(r)}\n`);
    // The real VMM writes the guest's serial console (console=ttyS0: kernel, grim-init, the app) to its stdout.
    if ((r.body as { action_type?: string } | undefined)?.action_type === 'InstanceStart')
      process.stdout.write(`${CONSOLE_LINE}\n`);
  },
});
process.on('SIGTERM', () => process.exit(143));
await double.waitForExit(2 ** 31 - 1);
process.exit(0);
