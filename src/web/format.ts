/** Dates as local 'YYYY-MM-DD HH:MM:SS' (sortable, unambiguous). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units with at most one decimal: 1536 -> '1.5 KiB'. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

/** CPU in cores from millicores: 1500 -> '1.5 cores'. */
export function formatCpu(millis: number): string {
  const cores = millis / 1000;
  return `${Number.isInteger(cores) ? cores : cores.toFixed(2)} ${cores === 1 ? 'core' : 'cores'}`;
}

/** A duration for people: 850 ms, 4.2 s, 3 min 5 s. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** Names in the order people expect: n2 before n10. */
export function byName<T extends { name: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => collator.compare(a.name, b.name));
}
