/**
 * Numbers as ZFS tools print them. Without -p they are "nicenum" strings: powers of 1024 with one
 * letter (K M G T P E), e.g. "1000M", "1.23G", "444K", "0", "0B", "97.3M". With -p they are exact
 * integers. Parsed values of nicenum strings are approximate (at most 3 significant digits).
 */

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
UNITS.P = 1024 ** 5;
UNITS.E = 1024 ** 6;

const NICENUM = /^([0-9]+(?:\.[0-9]+)?)([BKMGTPE]?)$/;

/** Bytes (or a count) from "1.23G", "250M", "12345", "-" (undefined), "none" (undefined). */
export function parseNicenum(text: string): number | undefined {
  const t = text.trim();
  const m = NICENUM.exec(t);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

/** "40%" -> 40 */
export function parsePercent(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** "0h0m" -> 0, "1h25m" -> 5100, "00:00:04" -> 4, "1 days 02:03:04" -> 93784 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  let m = /^([0-9]+)h([0-9]+)m$/.exec(t);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  m = /^(?:([0-9]+) days? )?([0-9]+):([0-9]{2}):([0-9]{2})$/.exec(t);
  if (m) return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return undefined;
}

/** Bytes as zfs would print them, for the UI and messages: 1.5G, 250M. */
export function formatNicenum(bytes: number): string {
  const letters = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < letters.length - 1) {
    value /= 1024;
    i++;
  }
  if (i === 0) return `${bytes}B`;
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)}${letters[i]}`;
}
