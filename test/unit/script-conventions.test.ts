// Conventions every script a node runs keeps, and the rule that TypeScript under src/ assembles no shell:
// node-side actions are readable files under scripts/ that read data (parameters, env files, plan files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScript, scriptFor, SCRIPTS_DIR } from '../../src/scripts/loader.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path, ext);
    return ext.test(entry.name) ? [path] : [];
  });
}

/** Every script with its loader name ("facts", "guest/init", "lab/node-boot"); lib/ holds helpers only. */
const scripts = filesUnder(SCRIPTS_DIR, /\.sh$/)
  .map((path) => relative(SCRIPTS_DIR, path).replace(/\.sh$/, ''))
  .filter((name) => !name.startsWith('lib/'))
  .map((name) => (name.startsWith('node/') ? name.slice('node/'.length) : name));

/**
 * What shell looks like inside a TypeScript string. A line of src/ that holds a quote and one of these is
 * shell assembled in TypeScript.
 */
export const SHELL_PATTERNS: [RegExp, string][] = [
  [/#!\s*\/(usr\/)?bin\/(env\s+)?(ba|da)?sh\b/, 'a shebang'],
  [/\bset -([eux]+\b|-\s)/, 'set -e / set --'],
  [/(\|\||&&)\s*(exit|true|mv|cat|rm|mkdir|cd|kill)\b/, 'commands chained with || or &&'],
  [/\d?>\s*\/dev\/null|[12]?>&[12]/, 'a redirection'],
  [/\$\(/, 'command substitution'],
  [/\b(if|while|until|for)\b[^'"`]*;\s*(then|do)\b|;\s*(fi|done|esac)\s*(\\n|['"`;]|$)/, 'sh control flow'],
  [/<<-?\s*'?[A-Z]+'?/, 'a heredoc'],
  [/\bexport\s+'?(\$\{[^}]+\}|[A-Za-z_][A-Za-z0-9_]*)=/, 'export NAME='],
  [/['"`]sh['"`]\s*,\s*['"`]-c['"`]|\bsh -c ['"$]/, 'sh -c with a script'],
  [/\bexec\s+(sh|"\$@"|\$\{)/, 'exec'],
  [/\bumask\s+0/, 'umask'],
  [/\bcat\s*>/, 'cat >'],
];

/**
 * The only files of src/ allowed to hold shell, and why. Adding one needs a reason as good as these.
 */
const ALLOWED: Record<string, string> = {
  'ssh/command.ts':
    'an SSH exec request is a command line by protocol: the fixed `exec sh -s` / `exec sh -c` wrappers, every value quoted by quote.ts',
  'services/runs.ts': "runs the admin's own command line with sh -c as argv; grim adds nothing to it",
  'services/pipelines/master-cfg.ts':
    "Python for Buildbot: its ShellCommand runs the pipeline's own test command with sh -c as argv",
};

function shellIn(source: string): string[] {
  const found: string[] = [];
  source.split('\n').forEach((line, i) => {
    const text = line.trim();
    if (text.startsWith('//') || text.startsWith('*') || text.startsWith('/*')) return;
    const code = line.replace(/\s\/\/ .*$/, '');
    if (!/['"`]/.test(code)) return;
    for (const [pattern, what] of SHELL_PATTERNS)
      if (pattern.test(code)) {
        found.push(`${i + 1}: ${what}: ${text.slice(0, 120)}`);
        break;
      }
  });
  return found;
}

test('no file under src/ assembles shell (outside a short documented allowlist)', () => {
  const problems: string[] = [];
  for (const file of filesUnder(SRC, /\.tsx?$/)) {
    const name = relative(SRC, file);
    if (name in ALLOWED) continue;
    problems.push(...shellIn(readFileSync(file, 'utf8')).map((p) => `src/${name}:${p}`));
  }
  assert.deepEqual(problems, [], 'shell belongs in a static scripts/ file that reads data');
  for (const name of Object.keys(ALLOWED))
    assert.ok(existsSync(join(SRC, name)), `allowlisted src/${name} exists`);
});

test('the shell detector catches what used to be assembled in src/', () => {
  const caught = [
    'const run = `#!/bin/sh\\ncd "$(dirname "$0")" || exit 1\\n`;',
    'lines.push(`exec ${argv} >serial.log 2>&1`);',
    'const env = `export ${k}=${shellQuote(v)}`;',
    "const hook = `INSTANCE_DIR='${dir}' exec sh '${dir}/container-run.sh'\\n`;",
    "await execInNode(state, index, `umask 077 && cat > '${p}.new' && mv -f '${p}.new' '${p}'`);",
    'return c.ignoreFailure ? `${cmd} 2>/dev/null || true` : `${cmd} || exit 1`;',
    "`set -- ${app.argv.map(shq).join(' ')}\\n`,",
    'const s = `if [ -f ${f} ]; then rm ${f}; fi\\n`;',
  ];
  for (const line of caught) assert.equal(shellIn(line).length, 1, line);
  assert.deepEqual(shellIn('const q = `SELECT $1 FROM t`; // sh -c in a comment'), []);
  assert.deepEqual(shellIn(".option('--no-enable', 'write the files only; do not enable it')"), []);
});

test('scripts share one fail() from scripts/lib/fail.sh and every `# lib:` they name exists', () => {
  for (const name of scripts) {
    const path = `${SCRIPTS_DIR}${name.includes('/') ? name : `node/${name}`}.sh`;
    const body = readFileSync(path, 'utf8');
    const script = parseScript(name, path, body);
    assert.doesNotMatch(body, /^fail\(\)/m, `${name}.sh defines its own fail(): use # lib: fail`);
    if (/(^|[\s;|&(])fail "/m.test(body))
      assert.ok(script.libs.includes('fail'), `${name}.sh calls fail but does not declare # lib: fail`);
    for (const lib of script.libs)
      assert.ok(existsSync(`${SCRIPTS_DIR}lib/${lib}.sh`), `${name}: lib ${lib}`);
  }
});

test('scripts run by path on the control node (build, lab runners) need no lib', () => {
  // scripts/build/*.sh run under Buildbot, scripts/lab/*.sh through runLabScript and the node supervisor: as
  // files, so nothing inlines helpers for them. (Scripts run in a lab node go through the loader.)
  const inNode = new Set(['lab/node-host-key']);
  for (const name of scripts.filter((n) => n.startsWith('build/') || n.startsWith('lab/'))) {
    if (inNode.has(name)) continue;
    assert.deepEqual(scriptFor(name).libs, [], `${name}.sh is run as a file: it cannot use # lib:`);
  }
});

for (const [shell, prefix] of [
  ['dash', []],
  ['busybox', ['sh']],
] as const) {
  test(`every script a node runs parses under ${shell} (as the loader sends it)`, () => {
    const failed: string[] = [];
    for (const name of scripts) {
      const r = spawnSync(shell, [...prefix, '-n'], { input: scriptFor(name).body, encoding: 'utf8' });
      if (r.error) throw new Error(`${shell} is not runnable: ${r.error.message}`);
      if (r.status !== 0) failed.push(`${name}: ${r.stderr.trim()}`);
    }
    assert.deepEqual(failed, []);
  });
}

test('shellcheck passes on every script as the loader sends it (lib helpers inlined)', () => {
  const failed: string[] = [];
  for (const name of scripts.filter((n) => scriptFor(n).libs.length > 0)) {
    const r = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: scriptFor(name).body, encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck not runnable (apt-get install shellcheck): ${r.error.message}`);
    if (r.status !== 0) failed.push(`${name}:\n${r.stdout}`);
  }
  assert.deepEqual(failed, []);
});
