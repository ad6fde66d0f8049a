/** Request counts and latency histograms in Prometheus text format, without a dependency. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  count: number;
  sum: number;
  buckets: number[];
}

export class HttpMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number) {
    const key = JSON.stringify([method, route, String(status)]);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const lkey = JSON.stringify([method, route]);
    const s = this.latency.get(lkey) ?? { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
    s.count++;
    s.sum += seconds;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) s.buckets[i]++;
    });
    this.latency.set(lkey, s);
  }

  render(extra: string[] = []): string {
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const out = [
      '# HELP grim_http_requests_total HTTP requests by method, route and status',
      '# TYPE grim_http_requests_total counter',
    ];
    for (const [k, v] of this.requests) {
      const [m, r, s] = JSON.parse(k) as string[];
      out.push(`grim_http_requests_total{method="${esc(m)}",route="${esc(r)}",status="${s}"} ${v}`);
    }
    out.push(
      '# HELP grim_http_request_duration_seconds HTTP request latency',
      '# TYPE grim_http_request_duration_seconds histogram',
    );
    for (const [k, s] of this.latency) {
      const [m, r] = JSON.parse(k) as string[];
      const l = `method="${esc(m)}",route="${esc(r)}"`;
      BUCKETS.forEach((b, i) =>
        out.push(`grim_http_request_duration_seconds_bucket{${l},le="${b}"} ${s.buckets[i]}`),
      );
      out.push(`grim_http_request_duration_seconds_bucket{${l},le="+Inf"} ${s.count}`);
      out.push(`grim_http_request_duration_seconds_sum{${l}} ${s.sum}`);
      out.push(`grim_http_request_duration_seconds_count{${l}} ${s.count}`);
    }
    return [...out, ...extra].join('\n') + '\n';
  }
}

/** The server's own memory (what bench/footprint.ts and an operator's Prometheus watch), from process.memoryUsage(). */
export function processMemoryLines(): string[] {
  const m = process.memoryUsage();
  return [
    '# HELP grim_process_memory_bytes Memory of this grim process: rss, V8 heap (total, used), external (buffers, wasm)',
    '# TYPE grim_process_memory_bytes gauge',
    `grim_process_memory_bytes{kind="rss"} ${m.rss}`,
    `grim_process_memory_bytes{kind="heap_total"} ${m.heapTotal}`,
    `grim_process_memory_bytes{kind="heap_used"} ${m.heapUsed}`,
    `grim_process_memory_bytes{kind="external"} ${m.external}`,
    `grim_process_memory_bytes{kind="array_buffers"} ${m.arrayBuffers}`,
  ];
}
