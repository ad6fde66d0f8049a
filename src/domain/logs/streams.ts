/**
 * Which Loki stream a log line belongs to. Labels are bounded to {env, group, node, app, instance, stream}:
 * every value comes from grim's inventory (names it validated), so the number of streams grows with nodes
 * and instances, never with log content. Anything else about a line (file, offset, truncation) is
 * structured metadata.
 */

export const STREAM_LABEL_NAMES = ['env', 'group', 'node', 'app', 'instance', 'stream'] as const;
export type StreamLabelName = (typeof STREAM_LABEL_NAMES)[number];
export type StreamLabels = Partial<Record<StreamLabelName, string>>;

/**
 * `stream` values: an instance's stdout or stderr (its supervisor writes them to separate files), a microVM's
 * console (one serial line, no separate stderr), a node's syslog file or its systemd journal.
 */
export const STREAM_KINDS = ['stdout', 'stderr', 'console', 'syslog', 'journal'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** Loki's default max_label_value_length. */
export const MAX_LABEL_VALUE = 2048;

/**
 * One file grim tails, or a node's systemd journal (kind 'journal': path is its directory, '' for the system
 * journal, and the cursor is journald's). `key` is stable across restarts: it names the cursor row.
 */
export interface LogSource {
  key: string;
  kind?: 'file' | 'journal';
  node: string;
  path: string;
  labels: StreamLabels;
  /** true for files that existed long before grim (syslog): start at their end, not their beginning. */
  startAtEnd: boolean;
}

/** Only the bounded label names, non-empty, values cut to Loki's limit. */
export function boundedLabels(labels: Readonly<Record<string, string | undefined>>): StreamLabels {
  const out: StreamLabels = {};
  for (const name of STREAM_LABEL_NAMES) {
    const v = labels[name];
    if (v !== undefined && v !== '') out[name] = v.slice(0, MAX_LABEL_VALUE);
  }
  return out;
}

export function instanceSource(p: {
  instance: string;
  app: string;
  node: string;
  env: string;
  group: string;
  path: string;
  stream: 'stdout' | 'stderr' | 'console';
}): LogSource {
  return {
    // stdout keeps the key the single output file had before stderr was split off: its cursor stays valid
    key: p.stream === 'stderr' ? `instance:${p.instance}:stderr` : `instance:${p.instance}`,
    node: p.node,
    path: p.path,
    labels: boundedLabels({
      env: p.env,
      group: p.group,
      node: p.node,
      app: p.app,
      instance: p.instance,
      stream: p.stream,
    }),
    startAtEnd: false,
  };
}

export function syslogSource(p: { node: string; env: string; group: string; path: string }): LogSource {
  return {
    key: `node:${p.node}:syslog`,
    node: p.node,
    path: p.path,
    labels: boundedLabels({ env: p.env, group: p.group, node: p.node, stream: 'syslog' }),
    startAtEnd: true,
  };
}

export function journalSource(p: { node: string; env: string; group: string; directory: string }): LogSource {
  return {
    key: `node:${p.node}:journal`,
    kind: 'journal',
    node: p.node,
    path: p.directory,
    labels: boundedLabels({ env: p.env, group: p.group, node: p.node, stream: 'journal' }),
    startAtEnd: true,
  };
}
