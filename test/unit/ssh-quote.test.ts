import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { envAssignments, envProblems, quoteArgv, shellQuote } from '../../src/ssh/quote.ts';
import { InvalidCommandError } from '../../src/ssh/errors.ts';
import { prepareCommand } from '../../src/ssh/command.ts';

const nasty = [
  "'",
  '"',
  '$',
  '`',
  '\\',
  '\n',
  ';',
  '$(',
  ')',
  '!',
  '*',
  '~',
  ' ',
  '\t',
  '{',
  '}',
  '%',
  '&',
  '|',
  '#',
  '-',
  'é',
  '\r',
];
const shellishString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.array(fc.constantFrom(...nasty, 'a', 'Z', '0'), { maxLength: 30 }).map((parts) => parts.join('')),
);
const wordArb = shellishString.filter((s) => !s.includes('\0') && s.isWellFormed());

const shells: [string, string[]][] = [
  ['/bin/sh', []],
  ['dash', []],
  ['busybox', ['sh']],
];

for (const [shell, prefix] of shells) {
  test(`shellQuote: printf %s <quoted> under ${[shell, ...prefix].join(' ')} returns the input exactly`, (t) => {
    if (shell !== '/bin/sh' && !existsSync(`/usr/bin/${shell}`) && !existsSync(`/bin/${shell}`)) {
      t.skip(`${shell} not installed`);
      return;
    }
    fc.assert(
      fc.property(wordArb, (input) => {
        const out = execFileSync(shell, [...prefix, '-c', `printf %s ${shellQuote(input)}`], {
          encoding: 'utf8',
        });
        assert.equal(out, input);
      }),
      { numRuns: 150 },
    );
  });
}

test('quoted env assignments and argv reach sh literally (no expansion, no command substitution)', () => {
  fc.assert(
    fc.property(wordArb, fc.array(wordArb, { maxLength: 3 }), (value, args) => {
      const line = `${envAssignments({ V: value })} exec sh -c 'printf "%s\\0" "$V" "$@"' sh ${quoteArgv(args)}`;
      const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
      assert.deepEqual(out.split('\0').slice(0, -1), [value, ...args]);
    }),
    { numRuns: 100 },
  );
});

test('shellQuote refuses NUL', () => {
  assert.throws(() => shellQuote('a\0b'), InvalidCommandError);
});

test('envAssignments validates names and reports every problem', () => {
  assert.equal(envAssignments({ A: 'x y', _B2: "it's" }), `A='x y' _B2='it'\\''s'`);
  assert.equal(envAssignments({}), '');
  assert.throws(
    () => envAssignments({ 'a-b': '1', '1X': '2', 'OK;rm': '3', GOOD: 'x\0' }),
    InvalidCommandError,
  );
  assert.equal(envProblems({ 'a-b': '1', '1X': '2', 'OK;rm': '3', GOOD: 'x\0' }).length, 4);
  assert.equal(envProblems({ lower: 'x' }).length, 1, 'lower-case names are refused');
});

test('prepareCommand: script on stdin wrapped in a group, parameters quoted on the command line', () => {
  const prepared = prepareCommand({ script: 'echo "$X"', env: { X: '$(id)' }, args: ['a b'], name: 'demo' });
  assert.equal(prepared.commandLine, `echo "grim-pid:$$" >&2; X='$(id)' exec sh -s -- 'a b'`);
  assert.equal(prepared.stdin, '{\necho "$X"\n}\n');
  assert.equal(prepared.name, 'demo');
  assert.equal(
    prepareCommand({ argv: ['ls', '-l', "x'y"] }).commandLine,
    `echo "grim-pid:$$" >&2; exec 'ls' '-l' 'x'\\''y'`,
  );
  assert.throws(() => prepareCommand({ argv: [] }), InvalidCommandError);
  assert.throws(() => prepareCommand({ script: 'true', env: { 'BAD NAME': 'x' } }), InvalidCommandError);
});

test('prepareCommand: a script cut short in transit does not run at all', () => {
  const { commandLine, stdin } = prepareCommand({ script: 'echo first\necho second', env: { A: '1' } });
  const truncated = stdin.slice(0, stdin.indexOf('echo second'));
  for (const [shell, prefix] of shells) {
    let out: string;
    try {
      out = execFileSync(shell, [...prefix, '-c', commandLine], {
        input: truncated,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      out = (err as { stdout: string }).stdout;
    }
    assert.equal(out, '', `${shell} ran part of a truncated script`);
    const full = execFileSync(shell, [...prefix, '-c', commandLine], { input: stdin, encoding: 'utf8' });
    assert.equal(full, 'first\nsecond\n');
  }
});
