/**
 * Which Loki stream a log line belongs to. Labels are bounded to {env, group, node, app, instance, stream}:
 * every value comes from grim's inventory (names it validated), so the number of streams grows with nodes
 * and instances, never with log content. Anything else about a line (file, offset, truncation) is
 * structured metadata.
 */

export const STREAM_LABEL_NAMES = ['env', 'group', 'node', 'app', 'instance', 'stream'] as const;
export type StreamLabelName = (typeof STREAM_LABEL_NAMES)[number];
export type StreamLabels = Partial<Record<StreamLabelName, string>>;

/** `stream` values: an instance's output (stdout and stderr as its supervisor writes them), or node logs. */
export const STREAM_KINDS = ['output', 'syslog'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** Loki's default max_label_value_length. */
export const MAX_LABEL_VALUE = 2048;

/** One file grim tails. `key` is stable across restarts: it names the cursor row. */
export interface LogSource {
  key: string;
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
}): LogSource {
  return {
    key: `instance:${p.instance}`,
    node: p.node,
    path: p.path,
    labels: boundedLabels({
      env: p.env,
      group: p.group,
      node: p.node,
      app: p.app,
      instance: p.instance,
      stream: 'output',
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
