/**
 * Hand-written encoder for Loki's push API body, logproto.PushRequest (grafana/loki pkg/push/push.proto):
 *   PushRequest   { repeated StreamAdapter streams = 1; string format = 2; }
 *   StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
 *   EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                   repeated LabelPairAdapter structuredMetadata = 3; repeated LabelPairAdapter parsed = 4; }
 *   LabelPairAdapter { string name = 1; string value = 2; }
 *   Timestamp     { int64 seconds = 1; int32 nanos = 2; }
 * The body is sent snappy-block compressed (Content-Type application/x-protobuf). `hash` and `parsed`
 * are server-side fields and are never written.
 */
import { Writer } from '../prometheus/protobuf.ts';

export interface LokiEntry {
  /** Unix time in nanoseconds. */
  tsNs: bigint;
  line: string;
  /** Structured metadata: high-cardinality values that must not become labels. */
  metadata?: readonly (readonly [string, string])[];
}

export interface LokiStream {
  /** The stream selector in Prometheus text form, e.g. {app="shop", node="n1"} (see formatLabels). */
  labels: string;
  entries: readonly LokiEntry[];
}

const NS_PER_S = 1_000_000_000n;

function encodeTimestamp(tsNs: bigint): Uint8Array {
  const w = new Writer();
  const seconds = tsNs / NS_PER_S;
  w.uint(1, Number(seconds));
  w.uint(2, Number(tsNs - seconds * NS_PER_S));
  return w.finish();
}

function encodePair(name: string, value: string): Uint8Array {
  const w = new Writer();
  w.string(1, name);
  w.string(2, value);
  return w.finish();
}

function encodeEntry(e: LokiEntry): Uint8Array {
  const w = new Writer();
  w.bytes(1, encodeTimestamp(e.tsNs));
  w.string(2, e.line);
  for (const [k, v] of e.metadata ?? []) w.bytes(3, encodePair(k, v));
  return w.finish();
}

function encodeStream(s: LokiStream): Uint8Array {
  const w = new Writer();
  w.string(1, s.labels);
  for (const e of s.entries) w.bytes(2, encodeEntry(e));
  return w.finish();
}

export function encodePushRequest(streams: readonly LokiStream[]): Uint8Array {
  const w = new Writer();
  for (const s of streams) w.bytes(1, encodeStream(s));
  return w.finish();
}

/** Label value escaping of the Prometheus text form: backslash, double quote, line feed. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** {a="1", b="2"}: names sorted, empty values left out (Loki drops them anyway). */
export function formatLabels(labels: Readonly<Record<string, string | undefined>>): string {
  const pairs = Object.entries(labels)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${escapeValue(v)}"`);
  return `{${pairs.join(', ')}}`;
}
