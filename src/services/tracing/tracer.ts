/**
 * grim's own traces: deploys, rollouts and OS updates become spans (one per step), exported with OTLP/HTTP
 * (protobuf) to Tempo or any OTLP receiver. Spans are batched (at most 512 or 1 s) and sent in the background;
 * an export that fails is retried on 429/5xx/network errors a few times, then dropped and counted, so a
 * missing receiver never slows a deploy. Without an endpoint every span is a no-op. On shutdown (SIGTERM) the
 * server calls shutdown(): spans still open are ended as interrupted, and everything queued is sent (bounded
 * by a deadline), so the last steps before a stop are not lost.
 *
 * Settings (env): GRIM_OTLP_ENDPOINT (base URL, e.g. http://tempo:4318; spans go to <base>/v1/traces),
 * GRIM_OTLP_TENANT (X-Scope-OrgID for a multi-tenant Tempo), GRIM_APP_OTLP_ENDPOINT (what apps get as
 * OTEL_EXPORTER_OTLP_ENDPOINT; defaults to GRIM_OTLP_ENDPOINT).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeTraceExport, type Attributes, type SpanData } from '../../integrations/otlp/trace-encode.ts';

export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  /** A step inside this span. */
  child(name: string, attributes?: Attributes): Span;
  set(attributes: Attributes): void;
  event(name: string, attributes?: Attributes): void;
  /** Ends the span: ok, or failed with the error's message. Ending twice keeps the first. */
  end(error?: unknown): void;
}

export interface TracingSettings {
  endpoint: string;
  headers?: Record<string, string>;
  /** OTEL_EXPORTER_OTLP_ENDPOINT given to apps. */
  appEndpoint?: string;
}

/** Wall-clock nanoseconds that never go backwards within the process (hrtime anchored to Date.now once). */
const ANCHOR = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const nowNs = () => ANCHOR + process.hrtime.bigint();

export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TracingSettings | null {
  const base = env.GRIM_OTLP_ENDPOINT;
  const app = env.GRIM_APP_OTLP_ENDPOINT || base;
  for (const [name, v] of [
    ['GRIM_OTLP_ENDPOINT', base],
    ['GRIM_APP_OTLP_ENDPOINT', app],
  ] as const)
    if (v && !/^https?:$/.test(new URL(v).protocol)) throw new Error(`${name} must be http(s), got ${v}`);
  if (!base) return null;
  return {
    endpoint: base.replace(/\/+$/, ''),
    ...(env.GRIM_OTLP_TENANT ? { headers: { 'X-Scope-OrgID': env.GRIM_OTLP_TENANT } } : {}),
    ...(app ? { appEndpoint: app.replace(/\/+$/, '') } : {}),
  };
}

class NoopSpan implements Span {
  readonly traceId = '';
  readonly spanId = '';
  child(): Span {
    return this;
  }
  set(): void {}
  event(): void {}
  end(): void {}
}
const NOOP_SPAN = new NoopSpan();

class LiveSpan implements Span {
  readonly traceId: string;
  readonly spanId = randomBytes(8).toString('hex');
  readonly #data: SpanData;
  readonly #tracer: Tracer;
  #ended = false;
  constructor(tracer: Tracer, name: string, attributes: Attributes, parent?: LiveSpan) {
    this.#tracer = tracer;
    tracer.opened(this);
    this.traceId = parent?.traceId ?? randomBytes(16).toString('hex');
    this.#data = {
      traceId: this.traceId,
      spanId: this.spanId,
      ...(parent ? { parentSpanId: parent.spanId } : {}),
      name,
      kind: 'internal',
      startNs: nowNs(),
      endNs: 0n,
      attributes: { ...attributes },
      events: [],
      status: { code: 'unset' },
    };
  }
  child(name: string, attributes: Attributes = {}): Span {
    return new LiveSpan(this.#tracer, name, attributes, this);
  }
  set(attributes: Attributes): void {
    Object.assign(this.#data.attributes, attributes);
  }
  event(name: string, attributes?: Attributes): void {
    (this.#data.events as SpanData['events'][number][]).push({
      timeNs: nowNs(),
      name,
      ...(attributes ? { attributes } : {}),
    });
  }
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#data.endNs = nowNs();
    this.#data.status =
      error === undefined
        ? { code: 'ok' }
        : { code: 'error', message: error instanceof Error ? error.message : String(error) };
    this.#tracer.finished(this.#data, this);
  }
}

export class Tracer {
  #settings: TracingSettings | null;
  readonly stats = { exportedSpans: 0, droppedSpans: 0, failedExports: 0 };
  #queue: SpanData[] = [];
  readonly #open = new Set<Span>();
  /** Aborted when shutdown's deadline passes: exports and their retries stop. */
  readonly #closing = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #sending: Promise<void> = Promise.resolve();
  readonly #resource: Attributes;

  constructor(settings: TracingSettings | null, resource: Attributes = {}) {
    this.#settings = settings;
    this.#resource = {
      'service.name': 'grim',
      'service.instance.id': `${hostname()}:${process.pid}`,
      ...resource,
    };
  }

  get settings(): TracingSettings | null {
    return this.#settings;
  }

  /** New settings (a monitoring stack was enabled): spans started from now on go there. */
  reconfigure(settings: TracingSettings | null): void {
    this.#settings = settings;
  }

  /** A new trace (e.g. one rollout). */
  start(name: string, attributes: Attributes = {}): Span {
    return this.settings ? new LiveSpan(this, name, attributes) : NOOP_SPAN;
  }

  /** @internal called by spans when they start. */
  opened(span: Span): void {
    this.#open.add(span);
  }

  /** @internal called by spans when they end. */
  finished(s: SpanData, span: Span): void {
    this.#open.delete(span);
    this.#queue.push(s);
    if (this.#queue.length >= 512) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), 1000).unref();
  }

  /** Sends what is queued now; resolves when every export started so far has ended. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const spans = this.#queue;
    this.#queue = [];
    if (spans.length) this.#sending = this.#sending.then(() => this.#export(spans));
    return this.#sending;
  }

  /**
   * For a stopping server: ends the spans still open (status error "interrupted: grim stopped"), then sends
   * everything queued. Resolves when the receiver has it, or after `deadlineMs` (a dead receiver must not hold
   * up the stop; what was not sent by then is lost).
   */
  async shutdown(deadlineMs = 5000): Promise<void> {
    if (!this.settings) return;
    // children before their parents: a parent's end time then covers its interrupted steps
    for (const span of [...this.#open].reverse()) span.end(new Error('interrupted: grim stopped'));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)));
    await Promise.race([this.flush(), deadline]).finally(() => clearTimeout(timer));
    this.#closing.abort();
  }

  async #export(spans: SpanData[]): Promise<void> {
    const s = this.#settings;
    if (!s) {
      this.stats.droppedSpans += spans.length;
      return;
    }
    const encoded = encodeTraceExport({
      resource: this.#resource,
      scope: { name: 'grim', version: '1' },
      spans,
    });
    const body = new Uint8Array(encoded); // its own ArrayBuffer, as fetch wants
    for (let attempt = 1; attempt <= 4; attempt++) {
      const status = await fetch(`${s.endpoint}/v1/traces`, {
        method: 'POST',
        headers: { ...s.headers, 'Content-Type': 'application/x-protobuf' },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(10_000), this.#closing.signal]),
      }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      if (status >= 200 && status < 300) {
        this.stats.exportedSpans += spans.length;
        return;
      }
      this.stats.failedExports++;
      if (status !== 0 && status !== 429 && status < 500) break; // the receiver refused it: not retried
      if (this.#closing.signal.aborted) break;
      await delay(250 * 2 ** attempt, undefined, { signal: this.#closing.signal }).catch(() => undefined);
    }
    this.stats.droppedSpans += spans.length;
  }
}

/** Runs `fn` inside a child span of `parent` named `name`, ending it with fn's outcome. */
export async function step<T>(
  parent: Span,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = parent.child(name, attributes);
  try {
    const r = await fn(span);
    span.end();
    return r;
  } catch (err) {
    span.end(err);
    throw err;
  }
}

export const NO_TRACING = new Tracer(null);

/** The exporter's counters for /metrics (Prometheus text). */
export function tracerExposition(s: Tracer['stats']): string[] {
  const c = (name: string, help: string, value: number) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} counter`,
    `${name} ${value}`,
  ];
  return [
    ...c('grim_trace_exported_spans_total', 'Spans the OTLP receiver accepted', s.exportedSpans),
    ...c('grim_trace_dropped_spans_total', 'Spans given up after retries or refused (4xx)', s.droppedSpans),
    ...c('grim_trace_failed_exports_total', 'OTLP export attempts that failed', s.failedExports),
  ];
}
