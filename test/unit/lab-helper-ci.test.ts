/**
 * withLab skips a lab test where the lab cannot run (here: not root), except in CI, where it must fail.
 * Runs withLab in a child process as an unprivileged user (setpriv), once with CI=true and once without.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labMustRun } from '../helpers/lab.ts';

const helper = fileURLToPath(new URL('../helpers/lab.ts', import.meta.url));
const child = `import { withLab } from ${JSON.stringify(helper)};
const t = { skip: (r) => console.log('skipped: ' + r), after() {} };
try { const lab = await withLab(t, { nodes: 1 }); console.log('returned ' + typeof lab); }
catch (e) { console.log('threw: ' + e.message); }`;

function runAsNobody(env: Record<string, string>): string {
  return execFileSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '--input-type=module',
      '-e',
      child,
    ],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8', timeout: 30_000 },
  );
}

test('CI is read as set unless empty, 0 or false', () => {
  assert.equal(labMustRun({ CI: 'true' }), true);
  assert.equal(labMustRun({ CI: '1' }), true);
  assert.equal(labMustRun({}), false);
  assert.equal(labMustRun({ CI: '' }), false);
  assert.equal(labMustRun({ CI: 'false' }), false);
  assert.equal(labMustRun({ CI: '0' }), false);
});

test(
  'without root, withLab skips outside CI and fails in CI',
  { skip: process.getuid?.() !== 0 && 'needs root to drop to an unprivileged user' },
  () => {
    const outside = runAsNobody({});
    assert.match(outside, /^skipped: lab not available: must run as root/m);
    assert.match(outside, /^returned undefined$/m);
    const inCi = runAsNobody({ CI: 'true' });
    assert.match(inCi, /^threw: CI must run the lab tests: lab not available: must run as root/m);
    assert.doesNotMatch(inCi, /skipped/);
  },
);
