/**
 * Parses the output of scripts/node/logs-read.sh: chunks of whole lines, each announced by
 *   @grim-log KEY INODE OFFSET LEN LINES SKIP FLAGS
 * and followed by exactly LINES lines. The byte counts come from the node (the text here is decoded UTF-8,
 * where invalid bytes became U+FFFD, so its length says nothing about the file's offsets).
 */

export interface LogChunk {
  /** 1-based position of the file in the LOG_FILES list. */
  key: number;
  inode: string;
  /** Byte offset of the first line in that file. */
  offset: number;
  /** Bytes of the file this chunk covers: the cursor after it is offset + length. */
  length: number;
  /** Whether the cursor after this chunk is inside an over-long line whose rest is skipped. */
  skip: boolean;
  /** r rotated file, l rest of a rotated file lost, z truncated file, t over-long line cut, p unterminated last line, m missing. */
  flags: string;
  lines: string[];
}

/** What logs-read.sh read from the node's systemd journal (one `journalctl -o json` line per entry). */
export interface JournalChunk {
  /** after: entries after the cursor; end: only the newest entry, for its cursor; none: the node has no journal. */
  mode: 'after' | 'end' | 'none';
  entries: string[];
}

const HEADER = /^@grim-log (\d+) (\d+) (\d+) (\d+) (\d+) ([01]) ([a-z]+|-)$/;
const JOURNAL_HEADER = /^@grim-journal (after|end|none) (\d+)$/;

export class ReadOutputError extends Error {
  constructor(message: string) {
    super(`logs-read output: ${message}`);
    this.name = 'ReadOutputError';
  }
}

export function parseReadOutput(stdout: string): LogChunk[] {
  return parseRead(stdout).files;
}

export function parseRead(stdout: string): { files: LogChunk[]; journal: JournalChunk | null } {
  const lines = stdout.split('\n');
  const out: LogChunk[] = [];
  let journal: JournalChunk | null = null;
  let i = 0;
  let ok = false;
  while (i < lines.length) {
    const line = lines[i++];
    if (line === '') continue;
    if (line.startsWith('{')) {
      const result = JSON.parse(line) as { ok?: boolean; error?: string };
      if (!result.ok) throw new ReadOutputError(result.error ?? line);
      ok = true;
      break;
    }
    const j = JOURNAL_HEADER.exec(line);
    if (j) {
      const count = Number(j[2]);
      if (i + count > lines.length) throw new ReadOutputError('journal chunk is cut short');
      journal = { mode: j[1] as JournalChunk['mode'], entries: lines.slice(i, i + count) };
      i += count;
      continue;
    }
    const m = HEADER.exec(line);
    if (!m) throw new ReadOutputError(`unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    const count = Number(m[5]);
    if (i + count > lines.length) throw new ReadOutputError(`chunk of file ${m[1]} is cut short`);
    out.push({
      key: Number(m[1]),
      inode: m[2],
      offset: Number(m[3]),
      length: Number(m[4]),
      skip: m[6] === '1',
      flags: m[7] === '-' ? '' : m[7],
      lines: lines.slice(i, i + count),
    });
    i += count;
  }
  if (!ok) throw new ReadOutputError('no result line (the script did not finish)');
  return { files: out, journal };
}
