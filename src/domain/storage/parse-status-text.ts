/**
 * `zpool status` text, in every dialect grim meets:
 * - OpenZFS 2.x: "  scan:" with continuation lines, "(resilvering)" notes, dRAID names;
 * - zfs-fuse 0.7 (pool v23, the lab): " scrub: scrub in progress for 0h0m, 21.11% done, 0h0m to go";
 * - legacy Solaris-era docs: " scrub: resilver in progress, 0.14% done, 0h0m to go";
 * - `zpool import` listings (an "id:" line, a config table without counters).
 * Indentation may be tabs (real output) or spaces (copies in docs); nesting is read relative to the
 * NAME column and tolerates the mis-indented lines seen in the OpenZFS docs.
 */
import { parseDuration, parseNicenum } from './zfs-numbers.ts';
import { vdevType, type PoolStatus, type ScanStatus, type Vdev, type VdevClass } from './pool-status.ts';

const CLASS_HEADERS: Record<string, VdevClass> = {
  logs: 'logs',
  cache: 'cache',
  spares: 'spares',
  special: 'special',
  dedup: 'dedup',
};

const STATES = new Set([
  'ONLINE',
  'DEGRADED',
  'FAULTED',
  'OFFLINE',
  'UNAVAIL',
  'REMOVED',
  'AVAIL',
  'INUSE',
  'SPLIT',
  'HEALTHY',
]);

function expandTabs(line: string): string {
  let out = '';
  for (const c of line) {
    if (c === '\t') out += ' '.repeat(8 - (out.length % 8));
    else out += c;
  }
  return out;
}

const indentOf = (line: string) => line.length - line.trimStart().length;

/** Splits a multi-pool output into one block per "pool:" header. Lines of `$ cmd` / `[rc=N]` are dropped. */
function poolBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  let current: string[] | null = null;
  for (const raw of text.replace(/\r/g, '').split('\n')) {
    if (/^\$ /.test(raw) || /^\[rc=[0-9]+\]/.test(raw)) continue;
    const line = expandTabs(raw);
    if (/^\s*pool: /.test(line)) {
      current = [];
      blocks.push(current);
    }
    current?.push(line);
  }
  return blocks;
}

export function parseScan(raw: string): ScanStatus {
  const text = raw.replace(/\s+/g, ' ').trim();
  const scan: ScanStatus = { kind: null, state: 'none', raw: text };
  if (text === '' || /^none requested/.test(text)) return scan;
  const kind = /^(scrub|resilver)/.exec(text)?.[1] as ScanStatus['kind'] | undefined;
  if (/^resilvered /.test(text)) scan.kind = 'resilver';
  else scan.kind = kind ?? null;
  const pct = /([0-9.]+)% done/.exec(text);
  if (pct) scan.percentDone = Number(pct[1]);
  const eta = /(?:, )?((?:[0-9]+ days? )?[0-9]+:[0-9]{2}:[0-9]{2}|[0-9]+h[0-9]+m) to go/.exec(text);
  if (eta) scan.etaSeconds = parseDuration(eta[1]);
  if (/in progress/.test(text)) {
    scan.state = 'in-progress';
    const since = /in progress since (.+?)(?= [0-9.]+[BKMGTPE]? (?:\/ [0-9.]+[BKMGTPE]? )?scanned|$)/.exec(
      text,
    );
    if (since) scan.when = since[1].trim();
    const resilvered = /([0-9.]+[BKMGTPE]?) resilvered/.exec(text);
    const repaired = /([0-9.]+[BKMGTPE]?) repaired/.exec(text);
    const amount = resilvered ?? repaired;
    if (amount) scan.repairedBytes = parseNicenum(amount[1]);
    return scan;
  }
  if (/(canceled|cancelled|stopped)/.test(text) && !/completed/.test(text)) scan.state = 'canceled';
  else scan.state = 'finished';
  const errors = /with ([0-9]+) errors?/.exec(text);
  if (errors) scan.errors = Number(errors[1]);
  const on = / on (.+)$/.exec(text);
  if (on) scan.when = on[1].trim();
  // 2.x: "scrub repaired 0B in 00:00:01", "resilvered 1.2G in ..."
  const amount = /(?:repaired|resilvered) ([0-9.]+[BKMGTPE]?) in/.exec(text);
  if (amount) scan.repairedBytes = parseNicenum(amount[1]);
  return scan;
}

interface Row {
  depth: number;
  tokens: string[];
}

function parseVdevRow(tokens: string[]): Vdev {
  const [name, maybeState, ...rest] = tokens;
  const vdev: Vdev = {
    name,
    type: vdevType(name),
    state: '',
    readErrors: 0,
    writeErrors: 0,
    checksumErrors: 0,
    note: '',
    children: [],
  };
  let i = 0;
  if (maybeState !== undefined && STATES.has(maybeState)) {
    vdev.state = maybeState === 'HEALTHY' ? 'ONLINE' : maybeState;
    const counters = rest.slice(0, 3);
    if (counters.length === 3 && counters.every((c) => parseNicenum(c) !== undefined)) {
      [vdev.readErrors, vdev.writeErrors, vdev.checksumErrors] = counters.map((c) => parseNicenum(c) ?? 0);
      i = 3;
    }
    vdev.note = rest.slice(i).join(' ');
  } else {
    vdev.note = [maybeState, ...rest].filter((t) => t !== undefined).join(' ');
  }
  const was = /^was (\S+)/.exec(vdev.note);
  if (was) vdev.wasPath = was[1];
  return vdev;
}

function buildTree(rows: Row[], parent: Vdev, from: number, depth: number): number {
  let i = from;
  while (i < rows.length && rows[i].depth >= depth) {
    const row = rows[i];
    const vdev = parseVdevRow(row.tokens);
    parent.children.push(vdev);
    i = buildTree(rows, vdev, i + 1, row.depth + 1);
  }
  return i;
}

function parseConfig(lines: string[], pool: PoolStatus): void {
  // The first line is the NAME header (status) or the pool's own line (import listings / bare tables).
  let start = lines.findIndex((l) => l.trim() !== '');
  if (start < 0) return;
  const base = indentOf(lines[start]);
  if (/^\s*NAME\s+STATE/.test(lines[start])) start += 1;
  const sections: Record<VdevClass, Row[]> = {
    data: [],
    logs: [],
    cache: [],
    spares: [],
    special: [],
    dedup: [],
  };
  let current: VdevClass = 'data';
  let rootRow: string[] | null = null;
  for (const line of lines.slice(start)) {
    if (line.trim() === '') {
      if (rootRow) break; // the table ends at the first blank line
      continue;
    }
    const tokens = line.trim().split(/\s+/);
    // Rows of the data section always show a state; anything else is no longer the table.
    const stateless = tokens.length > 1 && !STATES.has(tokens[1]);
    if (stateless || (tokens.length === 1 && current === 'data' && !CLASS_HEADERS[tokens[0]])) break;
    const rel = Math.round((indentOf(line) - base) / 2);
    if (rel <= 0 && tokens.length === 1 && CLASS_HEADERS[tokens[0]]) {
      current = CLASS_HEADERS[tokens[0]];
      continue;
    }
    if (rel <= 0 && current === 'data' && rootRow === null) {
      rootRow = tokens;
      continue;
    }
    // Under a class header everything is at least one level deep (the docs mis-indent some lines).
    sections[current].push({ depth: Math.max(1, rel), tokens });
  }
  if (rootRow) {
    const root = parseVdevRow(rootRow);
    root.type = 'root';
    pool.root = root;
  }
  buildTree(sections.data, pool.root, 0, 1);
  for (const cls of ['logs', 'cache', 'spares', 'special', 'dedup'] as const) {
    const holder: Vdev = { ...pool.root, children: [] };
    buildTree(sections[cls], holder, 0, 1);
    pool[cls] = holder.children;
  }
}

function emptyPool(name: string): PoolStatus {
  return {
    name,
    state: '',
    status: '',
    action: '',
    see: '',
    scan: null,
    root: {
      name,
      type: 'root',
      state: '',
      readErrors: 0,
      writeErrors: 0,
      checksumErrors: 0,
      note: '',
      children: [],
    },
    logs: [],
    cache: [],
    spares: [],
    special: [],
    dedup: [],
    errors: '',
    dataErrors: 0,
  };
}

const HEADER = /^\s*(pool|id|state|status|action|see|scan|scrub|config|errors):(?: (.*))?$/;

function parsePoolBlock(lines: string[]): PoolStatus {
  const pool = emptyPool('');
  const fields = new Map<string, string>();
  let key: string | null = null;
  let configLines: string[] | null = null;
  for (const line of lines) {
    const h = HEADER.exec(line);
    if (h && !(configLines && h[1] !== 'errors')) {
      key = h[1];
      if (key === 'config') {
        configLines = [];
        key = null;
        continue;
      }
      fields.set(key, (h[2] ?? '').trim());
      continue;
    }
    if (configLines && key === null) {
      configLines.push(line);
      continue;
    }
    if (key && line.trim() !== '') fields.set(key, `${fields.get(key)} ${line.trim()}`.trim());
  }
  pool.name = fields.get('pool') ?? '';
  if (fields.has('id')) pool.id = fields.get('id');
  pool.state = fields.get('state') ?? '';
  pool.status = fields.get('status') ?? '';
  pool.action = fields.get('action') ?? '';
  pool.see = fields.get('see') ?? '';
  const scan = fields.get('scan') ?? fields.get('scrub');
  pool.scan = scan === undefined ? null : parseScan(scan);
  pool.errors = fields.get('errors') ?? '';
  const dataErrors = /^([0-9]+) data errors?/.exec(pool.errors);
  pool.dataErrors = dataErrors ? Number(dataErrors[1]) : /Permanent errors/.test(pool.errors) ? 1 : 0;
  pool.root.name = pool.name;
  if (configLines) parseConfig(configLines, pool);
  if (!pool.root.state) pool.root.state = pool.state;
  return pool;
}

/** Every pool in a `zpool status` (or `zpool import`) output. "no pools available" gives []. */
export function parseZpoolStatusText(text: string): PoolStatus[] {
  return poolBlocks(text).map(parsePoolBlock);
}

/** A bare config table (as in source comments): NAME header, the pool line, vdevs, class sections. */
export function parseConfigTable(text: string): PoolStatus {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .map(expandTabs)
    .filter((l) => l.trim() !== '');
  const pool = emptyPool('');
  parseConfig(lines, pool);
  pool.name = pool.root.name;
  pool.state = pool.root.state;
  return pool;
}
