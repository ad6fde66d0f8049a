/**
 * `zpool status -j` (OpenZFS 2.3+, output_version 0.1) into grim's PoolStatus. Values may be strings
 * with nicenum units (without --json-int) or integers. The man page's example shows vdev state
 * "HEALTHY"; zpool_main.c emits "ONLINE": both are read as ONLINE.
 */
import { parseDuration, parseNicenum } from './zfs-numbers.ts';
import { vdevType, type PoolStatus, type ScanStatus, type Vdev } from './pool-status.ts';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseNicenum(v) ?? 0;
  return 0;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const state = (v: unknown) => (str(v) === 'HEALTHY' ? 'ONLINE' : str(v));

function vdevFromJson(v: Json): Vdev {
  const name = str(v.name);
  const jsonType = str(v.vdev_type);
  let type = vdevType(name);
  if (jsonType === 'raidz') type = /^raidz[123]/.test(name) ? vdevType(name) : 'raidz1';
  else if (jsonType && !['disk', 'file'].includes(jsonType) && type === 'disk') type = jsonType;
  else if (jsonType === 'file') type = 'file';
  const children = isObj(v.vdevs) ? Object.values(v.vdevs).filter(isObj).map(vdevFromJson) : [];
  const vdev: Vdev = {
    name,
    type,
    state: state(v.state),
    readErrors: num(v.read_errors),
    writeErrors: num(v.write_errors),
    checksumErrors: num(v.checksum_errors),
    note: '',
    children,
  };
  if (typeof v.path === 'string' && v.path !== name && str(v.state) !== 'ONLINE') vdev.wasPath = v.path;
  return vdev;
}

function scanFromJson(s: unknown): ScanStatus | null {
  if (!isObj(s)) return null;
  const func = str(s.function).toLowerCase();
  const st = str(s.state).toUpperCase();
  const scan: ScanStatus = {
    kind: func === 'scrub' ? 'scrub' : func === 'resilver' ? 'resilver' : null,
    state:
      st === 'SCANNING'
        ? 'in-progress'
        : st === 'FINISHED'
          ? 'finished'
          : st === 'CANCELED'
            ? 'canceled'
            : 'none',
    raw: JSON.stringify(s),
  };
  const issued = num(s.issued);
  const total = num(s.to_examine);
  if (scan.state === 'in-progress' && total > 0)
    scan.percentDone = Math.round((issued / total) * 10000) / 100;
  if (s.errors !== undefined) scan.errors = num(s.errors);
  if (s.processed !== undefined) scan.repairedBytes = num(s.processed);
  if (typeof s.end_time === 'string') scan.when = s.end_time;
  const eta = typeof s.eta === 'string' ? parseDuration(s.eta) : undefined;
  if (eta !== undefined) scan.etaSeconds = eta;
  return scan;
}

export function parseZpoolStatusJson(text: string): PoolStatus[] {
  const doc: unknown = JSON.parse(text);
  if (!isObj(doc) || !isObj(doc.pools)) throw new Error('not a `zpool status -j` document: no "pools"');
  return Object.values(doc.pools)
    .filter(isObj)
    .map((p): PoolStatus => {
      const name = str(p.name);
      const rootJson = isObj(p.vdevs) ? (Object.values(p.vdevs).find(isObj) ?? {}) : {};
      const root = vdevFromJson({ ...rootJson, name, state: rootJson.state ?? p.state });
      root.type = 'root';
      const cls = (key: string) =>
        isObj(p[key])
          ? Object.values(p[key] as Json)
              .filter(isObj)
              .map(vdevFromJson)
          : [];
      const errorCount = num(p.error_count);
      return {
        name,
        state: state(p.state),
        status: str(p.status) === 'OK' ? '' : str(p.msgid ?? p.status),
        action: str(p.action),
        see: str(p.moreinfo),
        scan: scanFromJson(p.scan_stats),
        root,
        logs: cls('logs'),
        cache: cls('l2cache'),
        spares: cls('spares'),
        special: cls('special'),
        dedup: cls('dedup'),
        errors: errorCount === 0 ? 'No known data errors' : `${errorCount} data errors`,
        dataErrors: errorCount,
      };
    });
}
