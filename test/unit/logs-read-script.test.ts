// scripts/node/logs-read.sh run locally under dash with GNU tools and under busybox ash with busybox applets
// (stat, tail, head, wc, mktemp, rm), parsed by parseReadOutput: complete lines only, cursors in bytes,
// rotation to FILE.1 finished before the new file, truncation, over-long lines cut then skipped, start at end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';
import { parseRead, parseReadOutput, type LogChunk } from '../../src/domain/logs/read-output.ts';

const dir = mkdtempSync(join(tmpdir(), 'grim-logs-read-'));
const bb = join(dir, 'busybox-bin');
mkdirSync(bb);
const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
for (const applet of ['stat', 'tail', 'head', 'wc', 'mktemp', 'rm']) symlinkSync(busybox, join(bb, applet));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const shells: [string, string[], string][] = [
  ['dash', ['-s'], process.env.PATH ?? '/usr/bin:/bin'],
  [busybox, ['sh', '-s'], `${bb}:${process.env.PATH ?? '/usr/bin:/bin'}`],
];

function read(
  shell: [string, string[], string],
  files: string[],
  extra: Record<string, string> = {},
): LogChunk[] {
  const r = spawnSync(shell[0], shell[1], {
    input: readFileSync(`${SCRIPTS_DIR}node/logs-read.sh`),
    env: { PATH: shell[2], LOG_FILES: files.join('\n'), ...extra },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return parseReadOutput(r.stdout);
}

const ino = (p: string) => String(statSync(p).ino);

for (const shell of shells) {
  const name = shell[0].endsWith('busybox') ? 'busybox ash' : 'dash';
  test(`logs-read.sh under ${name}: whole lines, rotation, truncation, long lines`, () => {
    const d = mkdtempSync(join(dir, 'case-'));
    const f = join(d, 'log');
    writeFileSync(f, 'one\ntwo\nthr');
    // a new file: from its beginning, whole lines only; the unfinished line waits
    let [c] = read(shell, [`0 0 0 ${f}`]);
    assert.deepEqual([c.inode, c.offset, c.length, c.lines, c.flags], [ino(f), 0, 8, ['one', 'two'], '']);
    // nothing new: an empty chunk at the same cursor
    [c] = read(shell, [`${ino(f)} 8 0 ${f}`]);
    assert.deepEqual([c.offset, c.length, c.lines], [8, 0, []]);
    // rotation: the old file (now log.1) is finished first, its unterminated last line included, then the new one
    appendFileSync(f, 'ee\nfour');
    const oldIno = ino(f);
    renameSync(f, `${f}.1`);
    writeFileSync(f, 'five\n');
    const rotated = read(shell, [`${oldIno} 8 0 ${f}`]);
    assert.deepEqual(
      rotated.map((x) => [x.inode, x.offset, x.length, x.lines, x.flags]),
      [
        [oldIno, 8, 10, ['three', 'four'], 'rp'],
        [ino(f), 0, 5, ['five'], 'r'],
      ],
    );
    // truncated in place (copytruncate): start over at 0
    writeFileSync(f, 'six\n');
    [c] = read(shell, [`${ino(f)} 5 0 ${f}`]);
    assert.deepEqual([c.offset, c.length, c.lines, c.flags], [0, 4, ['six'], 'z']);
    // rotated away and gone: reported lost, the new file read from 0
    const gone = read(shell, [`999999999 3 0 ${f}`]);
    assert.deepEqual(
      gone.map((x) => x.flags),
      ['l', 'r'],
    );
    // missing file, and a file started at its end
    const [m, e] = read(shell, [`0 0 0 ${join(d, 'nope')}`, `0 -1 0 ${f}`]);
    assert.equal(m.flags, 'm');
    assert.deepEqual([e.key, e.offset, e.length], [2, 4, 0]);
  });

  test(`logs-read.sh under ${name}: an over-long line is cut once, its rest skipped, UTF-8 counted in bytes`, () => {
    const d = mkdtempSync(join(dir, 'long-'));
    const f = join(d, 'log');
    writeFileSync(f, 'x'.repeat(5000) + 'y'.repeat(3000) + '\nnext é\n');
    const max = { LOG_MAX_BYTES: '4096' };
    let [c] = read(shell, [`0 0 0 ${f}`], max);
    assert.deepEqual([c.offset, c.length, c.skip, c.flags, c.lines.length], [0, 4096, true, 't', 1]);
    assert.equal(c.lines[0], 'x'.repeat(4096));
    [c] = read(shell, [`${ino(f)} 4096 1 ${f}`], max);
    assert.deepEqual([c.offset, c.length, c.skip, c.lines], [4096, 3905, false, []]);
    [c] = read(shell, [`${ino(f)} 8001 0 ${f}`], max);
    assert.deepEqual([c.length, c.lines], [8, ['next é']]);
    // the byte budget stops before later files; they are read next time
    const two = read(shell, [`0 0 0 ${f}`, `0 0 0 ${f}`], { LOG_MAX_BYTES: '4096', LOG_BUDGET: '4096' });
    assert.equal(two.length, 1);
  });

  test(`logs-read.sh under ${name}: a node without a journal says so; a cursor with shell syntax is refused`, () => {
    const d = mkdtempSync(join(dir, 'journal-'));
    const r = spawnSync(shell[0], shell[1], {
      input: readFileSync(`${SCRIPTS_DIR}node/logs-read.sh`),
      env: { PATH: shell[2], LOG_FILES: '', LOG_JOURNAL: '-', LOG_JOURNAL_DIR: d },
      encoding: 'utf8',
    });
    assert.deepEqual(parseRead(r.stdout).journal, { mode: 'none', entries: [] });
    const bad = spawnSync(shell[0], shell[1], {
      input: readFileSync(`${SCRIPTS_DIR}node/logs-read.sh`),
      env: { PATH: shell[2], LOG_FILES: '', LOG_JOURNAL: 's=1;$(reboot)' },
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stdout, /not a journald cursor/);
  });
}
