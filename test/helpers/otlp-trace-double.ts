/**
 * An OTLP/HTTP trace receiver double (protocol double): POST /v1/traces bodies are decoded with protobufjs from
 * the official opentelemetry-proto files (GRIM_SHARED_DIR/specs/otlp/), not with grim's encoder. A request
 * passes only if it has Content-Type application/x-protobuf, decodes as ExportTraceServiceRequest, passes
 * verify(), and re-encodes to the very same bytes (no unknown fields, canonical order, defaults left out).
 * Otherwise it answers 400 and records the violation. Answers can be scripted (429, 400, 503...).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { sharedDir } from './openapi-validator.ts';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: number; message: string };
  resource: Record<string, unknown>;
  scope: string;
}

export interface TraceDouble {
  url: string;
  spans: ReceivedSpan[];
  requests: { status: number; headers: Record<string, string | string[] | undefined> }[];
  violations: string[];
  script: number[];
  close(): Promise<void>;
}

const otlpDir = () => join(sharedDir(), 'specs', 'otlp');
const SERVICE = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

export function otlpProtoMissing(): string | null {
  const p = join(otlpDir(), SERVICE);
  return existsSync(p) ? null : `${p} not found: set GRIM_SHARED_DIR to the shared reference directory`;
}

function loadRequestType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(otlpDir(), target);
  root.loadSync(SERVICE, { keepCase: false });
  return root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
}

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const long = (v: unknown) => BigInt(String(v ?? 0));

function anyValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  return v;
}

const attrs = (kvs: unknown): Record<string, unknown> =>
  Object.fromEntries(
    ((kvs as { key: string; value?: Record<string, unknown> }[]) ?? []).map((kv) => [
      kv.key,
      anyValue(kv.value),
    ]),
  );

export async function startTraceDouble(): Promise<TraceDouble> {
  const Request = loadRequestType();
  const d: TraceDouble = {
    url: '',
    spans: [],
    requests: [],
    violations: [],
    script: [],
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body = '') => {
        d.requests.push({ status, headers: req.headers });
        res.writeHead(status, { 'Content-Type': 'application/x-protobuf' }).end(body);
      };
      const bad = (why: string) => {
        d.violations.push(why);
        answer(400, why);
      };
      if (req.method !== 'POST' || req.url !== '/v1/traces') return bad(`${req.method} ${req.url}`);
      if (req.headers['content-type'] !== 'application/x-protobuf')
        return bad(`content-type ${req.headers['content-type']}`);
      const scripted = d.script.shift();
      if (scripted) return answer(scripted);
      const body = Buffer.concat(chunks);
      let msg: protobuf.Message;
      try {
        msg = Request.decode(body);
      } catch (err) {
        return bad(`decode: ${(err as Error).message}`);
      }
      const problem = Request.verify(msg);
      if (problem) return bad(`verify: ${problem}`);
      if (!Buffer.from(Request.encode(msg).finish()).equals(body))
        return bad('does not re-encode to the same bytes');
      const o = Request.toObject(msg, { longs: String, defaults: false }) as any;
      for (const rs of o.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            d.spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind ?? 0,
              startNs: long(s.startTimeUnixNano),
              endNs: long(s.endTimeUnixNano),
              attributes: attrs(s.attributes),
              events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attrs(e.attributes) })),
              status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
              resource: attrs(rs.resource?.attributes),
              scope: ss.scope?.name ?? '',
            });
      answer(200);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  d.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  d.close = () => new Promise((r) => server.close(() => r()));
  return d;
}

/** The spans of one trace as an indented tree of names ("  " per level), children in start order. */
export function spanTree(spans: readonly ReceivedSpan[], rootName: string): string[] {
  const root = spans.find((s) => s.name === rootName && !s.parentSpanId);
  if (!root) return [];
  const out: string[] = [];
  const walk = (s: ReceivedSpan, depth: number) => {
    out.push(`${'  '.repeat(depth)}${s.name}${s.status.code === 2 ? ' [error]' : ''}`);
    for (const c of spans
      .filter((c) => c.parentSpanId === s.spanId && c.traceId === s.traceId)
      .sort((a, b) => (a.startNs < b.startNs ? -1 : 1)))
      walk(c, depth + 1);
  };
  walk(root, 0);
  return out;
}
