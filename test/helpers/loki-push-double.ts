/**
 * A Loki push endpoint double that checks every request against Loki's official push.proto
 * (GRIM_SHARED_DIR/specs/loki/push.nogogo.proto, loaded with protobufjs; the snappy block is decoded with
 * snappyjs, not grim's own codec). A request passes only if:
 *  - it is POST /loki/api/v1/push with Content-Type application/x-protobuf (and X-Scope-OrgID when a tenant is expected);
 *  - the body is a snappy block that decodes, as logproto.PushRequest, to a message that re-encodes to the very same
 *    bytes (no unknown fields, canonical field order, proto3 defaults left out) and passes protobufjs' verify();
 *  - every stream selector parses, uses only the allowed label names, and has no duplicate names;
 *  - every line is at most 256 000 bytes and every stream's timestamps increase (also across requests).
 * Otherwise it answers 400 like Loki and records the problem. Responses can be scripted (429, 400, 500...).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import SnappyJS from 'snappyjs';
import { sharedDir } from './openapi-validator.ts';

export interface ReceivedEntry {
  tsNs: bigint;
  line: string;
  metadata: Record<string, string>;
}

export interface PushDouble {
  url: string;
  /** Accepted lines per stream selector, in arrival order. */
  streams: Map<string, ReceivedEntry[]>;
  /** Label sets seen (parsed). */
  labelSets: Record<string, string>[];
  /** Every request: status answered, bytes, arrival time. */
  requests: { status: number; bytes: number; at: number; lines: number }[];
  /** Protocol violations found (each made the request fail with 400). Must stay empty. */
  violations: string[];
  /** Scripted answers for the next requests, e.g. [429, 429] or [400]. */
  script: { status: number; body?: string; retryAfter?: string }[];
  onAccept?: (entries: { stream: string; entry: ReceivedEntry }[], at: number) => void;
  close(): Promise<void>;
}

export const ALLOWED_LABELS = new Set(['env', 'group', 'node', 'app', 'instance', 'stream']);
const MAX_LINE = 256_000;

export function pushProtoPath(): string {
  return join(sharedDir(), 'specs', 'loki', 'push.nogogo.proto');
}

/** A skip reason when the proto is missing, else null. */
export function pushProtoMissing(): string | null {
  const p = pushProtoPath();
  return existsSync(p) ? null : `${p} not found: set GRIM_SHARED_DIR to the shared reference directory`;
}

/** Parses {a="x", b="y\"z"} the way Prometheus' label parser does (names, quoted values, escapes). */
export function parseSelector(s: string): Record<string, string> {
  const m = /^\{(.*)\}$/s.exec(s);
  if (!m) throw new Error(`selector ${JSON.stringify(s)} is not in braces`);
  const out: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/gsy;
  let pos = 0;
  const body = m[1];
  while (pos < body.length) {
    re.lastIndex = pos;
    const p = re.exec(body);
    if (!p) throw new Error(`selector ${JSON.stringify(s)} does not parse at ${pos}`);
    if (p[1] in out) throw new Error(`duplicate label ${p[1]} in ${s}`);
    out[p[1]] = p[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    pos = re.lastIndex;
  }
  return out;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * acknowledgeFirst (benchmarks): answer 204 as soon as the body is in, then check it (violations are still
 * recorded, scripted answers are ignored), so that the double's own decoding does not slow the sender.
 */
export async function startLokiPushDouble(
  opts: { tenant?: string; acknowledgeFirst?: boolean } = {},
): Promise<PushDouble> {
  const root = await protobuf.load(pushProtoPath());
  const PushRequest = root.lookupType('logproto.PushRequest');
  const lastTs = new Map<string, bigint>();
  const d: Omit<PushDouble, 'url' | 'close'> = {
    streams: new Map(),
    labelSets: [],
    requests: [],
    violations: [],
    script: [],
  };
  const server: Server = createServer(async (req, res) => {
    const raw = await body(req);
    const at = Date.now();
    const early = opts.acknowledgeFirst === true;
    if (early) {
      res.writeHead(204).end();
      await new Promise((r) => setImmediate(r));
    }
    const answer = (status: number, text = '', lines = 0, headers: Record<string, string> = {}) => {
      d.requests.push({ status, bytes: raw.length, at, lines });
      if (early) return;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(text ? text + '\n' : '');
    };
    const problems: string[] = [];
    if (req.method !== 'POST' || req.url !== '/loki/api/v1/push')
      problems.push(`unexpected ${req.method} ${req.url}`);
    if (req.headers['content-type'] !== 'application/x-protobuf')
      problems.push(`content-type ${req.headers['content-type']}`);
    if (req.headers['content-encoding']) problems.push(`content-encoding ${req.headers['content-encoding']}`);
    if (opts.tenant !== undefined && req.headers['x-scope-orgid'] !== opts.tenant)
      return answer(401, 'no org id');
    let decoded: protobuf.Message | null = null;
    try {
      const plain = SnappyJS.uncompress(new Uint8Array(raw));
      decoded = PushRequest.decode(plain);
      const err = PushRequest.verify(decoded);
      if (err) problems.push(`verify: ${err}`);
      const again = PushRequest.encode(decoded).finish();
      if (Buffer.compare(Buffer.from(again), Buffer.from(plain)) !== 0)
        problems.push('body does not re-encode to the same bytes (unknown fields, order or defaults)');
    } catch (err) {
      problems.push(`decode: ${(err as Error).message}`);
    }
    const accepted: { stream: string; entry: ReceivedEntry }[] = [];
    const obj = decoded
      ? (PushRequest.toObject(decoded, { longs: String, defaults: true }) as {
          streams: {
            labels: string;
            entries: {
              timestamp?: { seconds: string; nanos: number };
              line: string;
              structuredMetadata: { name: string; value: string }[];
              parsed: unknown[];
            }[];
            hash: string;
          }[];
          format: string;
        })
      : null;
    for (const s of obj?.streams ?? []) {
      let labels: Record<string, string> = {};
      try {
        labels = parseSelector(s.labels);
      } catch (err) {
        problems.push((err as Error).message);
      }
      for (const name of Object.keys(labels))
        if (!ALLOWED_LABELS.has(name)) problems.push(`label ${name} is not one of the bounded labels`);
      if (!Object.keys(labels).length) problems.push('error at least one label pair is required per stream');
      if (s.hash !== '0') problems.push('hash is a server-side field');
      let prev = lastTs.get(s.labels) ?? -1n;
      for (const e of s.entries) {
        if (!e.timestamp) problems.push('entry without timestamp');
        const ts = BigInt(e.timestamp?.seconds ?? 0) * 1_000_000_000n + BigInt(e.timestamp?.nanos ?? 0);
        if (ts <= prev) problems.push(`stream ${s.labels}: timestamp ${ts} not after ${prev}`);
        prev = ts;
        if (Buffer.byteLength(e.line) > MAX_LINE)
          problems.push(`max entry size '${MAX_LINE}' bytes exceeded for stream '${s.labels}'`);
        if (e.parsed.length) problems.push('parsed is a query-side field');
        accepted.push({
          stream: s.labels,
          entry: {
            tsNs: ts,
            line: e.line,
            metadata: Object.fromEntries(e.structuredMetadata.map((p) => [p.name, p.value])),
          },
        });
      }
    }
    if (problems.length) {
      d.violations.push(...problems);
      return answer(400, problems.join('\n'));
    }
    const scripted = early ? undefined : d.script.shift();
    if (scripted) {
      const hdr: Record<string, string> = scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {};
      return answer(scripted.status, scripted.body ?? '', 0, hdr);
    }
    for (const { stream, entry } of accepted) {
      lastTs.set(stream, entry.tsNs);
      const list = d.streams.get(stream) ?? [];
      if (!list.length) d.labelSets.push(parseSelector(stream));
      list.push(entry);
      d.streams.set(stream, list);
    }
    d.onAccept?.(accepted, at);
    answer(204, '', accepted.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(d, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as PushDouble;
}
