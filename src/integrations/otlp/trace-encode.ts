/**
 * Hand-written encoder for OTLP/HTTP trace export bodies (opentelemetry-proto, collector/trace/v1):
 *   ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
 *   ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
 *   Resource      { repeated KeyValue attributes = 1; }
 *   ScopeSpans    { InstrumentationScope scope = 1; repeated Span spans = 2; }
 *   InstrumentationScope { string name = 1; string version = 2; }
 *   Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6;
 *          fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
 *          repeated Event events = 11; Status status = 15; }
 *   Event  { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
 *   Status { string message = 2; StatusCode code = 3; }   // 1 OK, 2 ERROR
 *   KeyValue { string key = 1; AnyValue value = 2; }
 *   AnyValue { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
 * POSTed to <endpoint>/v1/traces with Content-Type application/x-protobuf.
 */
import { Writer } from '../prometheus/protobuf.ts';

export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

export interface SpanData {
  /** 16 bytes, hex. */
  traceId: string;
  /** 8 bytes, hex. */
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: keyof typeof SPAN_KIND;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  events: ReadonlyArray<{ timeNs: bigint; name: string; attributes?: Attributes }>;
  status: { code: keyof typeof STATUS_CODE; message?: string };
}

/** AnyValue; written by hand because Writer skips proto3 defaults (false, 0, 0.0), which a set value must keep. */
function anyValue(v: AttributeValue): Uint8Array {
  if (typeof v === 'string') {
    const w = new Writer();
    w.bytes(1, new TextEncoder().encode(v));
    return w.finish();
  }
  const w = new Writer();
  if (typeof v === 'boolean') {
    w.tag(2, 0);
    w.varint(v ? 1 : 0);
    return w.finish();
  }
  if (Number.isSafeInteger(v)) {
    w.tag(3, 0);
    w.varint(v);
    return w.finish();
  }
  const b = new Uint8Array(9);
  b[0] = (4 << 3) | 1; // double_value, fixed64
  new DataView(b.buffer).setFloat64(1, v, true);
  return b;
}

function keyValues(w: Writer, field: number, attrs: Attributes | undefined): void {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    const kv = new Writer();
    kv.string(1, key);
    kv.bytes(2, anyValue(value));
    w.bytes(field, kv.finish());
  }
}

const hex = (s: string, bytes: number, what: string): Uint8Array => {
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(s))
    throw new Error(`${what} must be ${bytes} bytes of hex`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
};

function encodeSpan(s: SpanData): Uint8Array {
  const w = new Writer();
  w.bytes(1, hex(s.traceId, 16, 'trace id'));
  w.bytes(2, hex(s.spanId, 8, 'span id'));
  if (s.parentSpanId) w.bytes(4, hex(s.parentSpanId, 8, 'parent span id'));
  w.string(5, s.name);
  w.uint(6, SPAN_KIND[s.kind]);
  w.fixed64(7, s.startNs);
  w.fixed64(8, s.endNs);
  keyValues(w, 9, s.attributes);
  for (const e of s.events) {
    const ew = new Writer();
    ew.fixed64(1, e.timeNs);
    ew.string(2, e.name);
    keyValues(ew, 3, e.attributes);
    w.bytes(11, ew.finish());
  }
  const st = new Writer();
  st.string(2, s.status.message ?? '');
  st.uint(3, STATUS_CODE[s.status.code]);
  w.bytes(15, st.finish());
  return w.finish();
}

/** One ExportTraceServiceRequest: one resource (the exporting service), one scope, the spans. */
export function encodeTraceExport(p: {
  resource: Attributes;
  scope: { name: string; version: string };
  spans: readonly SpanData[];
}): Uint8Array {
  const resource = new Writer();
  keyValues(resource, 1, p.resource);
  const scope = new Writer();
  scope.string(1, p.scope.name);
  scope.string(2, p.scope.version);
  const scopeSpans = new Writer();
  scopeSpans.bytes(1, scope.finish());
  for (const s of p.spans) scopeSpans.bytes(2, encodeSpan(s));
  const rs = new Writer();
  rs.bytes(1, resource.finish());
  rs.bytes(2, scopeSpans.finish());
  const req = new Writer();
  req.bytes(1, rs.finish());
  return req.finish();
}
