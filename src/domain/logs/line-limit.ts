/**
 * Loki refuses a whole push with a 400 when one line is longer than its max_line_size (default 256KB,
 * which Loki's flag parser reads as 256 000 bytes). grim cuts such lines itself, at a UTF-8 character
 * boundary, and marks them, so one huge line cannot make a batch fail.
 */

export const MAX_LINE_BYTES = 256_000;
export const TRUNCATION_MARK = ' [grim: line truncated]';

export interface LimitedLine {
  line: string;
  truncated: boolean;
  /** Bytes of the line as read (before cutting). */
  bytes: number;
}

export function limitLine(line: string, maxBytes = MAX_LINE_BYTES, cutAlready = false): LimitedLine {
  const buf = Buffer.from(line, 'utf8');
  if (buf.length <= maxBytes && !cutAlready) return { line, truncated: false, bytes: buf.length };
  const room = maxBytes - Buffer.byteLength(TRUNCATION_MARK);
  let end = Math.min(room, buf.length);
  // back off continuation bytes (10xxxxxx) so no character is split
  while (end > 0 && end < buf.length && (buf[end] & 0xc0) === 0x80) end--;
  return {
    line: buf.subarray(0, end).toString('utf8') + TRUNCATION_MARK,
    truncated: true,
    bytes: buf.length,
  };
}
