import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  paramProblems,
  parseScript,
  scriptCommand,
  scriptFor,
  scriptPath,
} from '../../src/scripts/loader.ts';
import { InvalidCommandError } from '../../src/ssh/errors.ts';

const sample = `#!/bin/sh
# demo.sh - do a demo thing.
# param: NAME - the name
# param: SIZE_MB (optional) - size in MiB
# result: {"ok":true,
# result:  "name":"..."}
set -eu
# not part of the header
echo hi
`;

test('parseScript reads summary, params and result from the header only', () => {
  const script = parseScript('demo', '/x/demo.sh', sample);
  assert.equal(script.summary, 'demo.sh - do a demo thing.');
  assert.deepEqual(script.params, [
    { name: 'NAME', description: 'the name', optional: false },
    { name: 'SIZE_MB', description: 'size in MiB', optional: true },
  ]);
  assert.equal(script.result, '{"ok":true, "name":"..."}');
  assert.equal(script.body, sample);
  assert.throws(() => parseScript('bad', '/x/bad.sh', '#!/bin/sh\n# param: lower - x\n'), /malformed param/);
});

test('paramProblems: every undeclared, missing or malformed parameter is reported', () => {
  const script = parseScript('demo', '/x/demo.sh', sample);
  assert.deepEqual(paramProblems(script, { NAME: 'x' }), []);
  assert.deepEqual(paramProblems(script, { NAME: 'x', SIZE_MB: '3' }), []);
  const problems = paramProblems(script, { EXTRA: '1', 'bad-name': '2' });
  assert.equal(problems.length, 4, problems.join('\n')); // bad name, EXTRA + bad-name undeclared, NAME missing
  assert.ok(problems.some((p) => p.includes('missing parameter NAME')));
});

test('scriptFor loads scripts/node/<name>.sh and "dir/name" from scripts/dir/', (t) => {
  const dir = `${mkdtempSync(join(tmpdir(), 'grim-scripts-'))}/`;
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node'));
  mkdirSync(join(dir, 'lab'));
  writeFileSync(join(dir, 'node', 'demo.sh'), sample);
  writeFileSync(join(dir, 'lab', 'up.sh'), '#!/bin/sh\n# lab up\n');
  assert.equal(scriptFor('demo', dir).params.length, 2);
  assert.equal(scriptFor('lab/up', dir).summary, 'lab up');
  assert.deepEqual(scriptCommand('demo', { NAME: '$(x)' }, dir), {
    script: sample,
    env: { NAME: '$(x)' },
    name: 'demo',
  });
  assert.throws(() => scriptCommand('demo', { NAM: 'typo' }, dir), InvalidCommandError);
  for (const bad of ['../etc/passwd', 'a/b/c', 'Facts', '', '-x']) {
    assert.throws(() => scriptPath(bad, dir), InvalidCommandError, bad);
  }
});

test('the real node scripts declare what they take and return', () => {
  const facts = scriptFor('facts');
  // facts.sh takes one optional parameter: where this boot's KVM verdict is cached.
  assert.deepEqual(
    facts.params.map((p) => [p.name, p.optional]),
    [['KVM_PROBE_CACHE', true]],
  );
  assert.match(facts.result, /"kernel"/);
  assert.deepEqual(
    scriptFor('install-key').params.map((p) => p.name),
    ['GRIM_PUBLIC_KEY'],
  );
  assert.match(scriptFor('heartbeat').result, /"ok":true/);
});
