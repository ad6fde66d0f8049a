// A stand-in for a Firecracker process: an HTTP server on a unix socket that checks EVERY request
// against the v1.16.1 swagger spec, records it, and answers like Firecracker: 204 for accepted
// PUTs, 400 {fault_message} for bad input or a request the VM state forbids. It is strict about
// unknown body fields, as Firecracker's deserializer is, although the swagger leaves them open.
// SendCtrlAltDel on a running VM makes the "process" exit, as a guest reboot does (reboot=k).
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  formatIssues,
  type MatchedOperation,
  type OpenApiDocument,
  type SpecIssue,
} from './openapi-validator.ts';

/** What the double's "guest" prints on its serial console once started (firecracker-double-main.ts). */
export const CONSOLE_LINE = 'grim-init: app started (firecracker double console)';

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
  fault?: string;
  /** Spec problems with the request itself (empty for a spec-valid request). */
  specIssues: SpecIssue[];
  /** Spec problems with the double's own answer (must stay empty). */
  responseIssues: SpecIssue[];
}

export interface FirecrackerDoubleOptions {
  instanceId?: string;
  /** Whether SendCtrlAltDel makes the VM exit (a guest without i8042 support ignores it). */
  ctrlAltDelExits?: boolean;
  /** Listen here instead of a fresh temporary directory. */
  socketPath?: string;
  /** Called with every request once it is answered. */
  onRequest?: (request: RecordedRequest) => void;
}

type Json = Record<string, any>;

const AFTER_START = 'The requested operation is not supported after starting the microVM.';
const BEFORE_START = 'The requested operation is not supported before starting the microVM.';
const PRE_BOOT_ONLY = new Set([
  '/machine-config',
  '/boot-source',
  '/drives/{drive_id}',
  '/network-interfaces/{iface_id}',
  '/mmds/config',
  '/metrics',
]);

class Fault extends Error {}

export class FirecrackerDouble {
  readonly socketPath: string;
  readonly requests: RecordedRequest[] = [];
  state: 'Not started' | 'Running' = 'Not started';
  exited = false;
  private readonly spec: OpenApiDocument;
  private readonly options: Required<Pick<FirecrackerDoubleOptions, 'instanceId' | 'ctrlAltDelExits'>> &
    FirecrackerDoubleOptions;
  private readonly dir: string;
  private readonly server: http.Server;
  private readonly config: {
    machine: Json;
    bootSource?: Json;
    drives: Map<string, Json>;
    nics: Map<string, Json>;
    mmdsConfig?: Json;
    mmds?: Json;
    metrics?: Json;
  } = {
    machine: { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false },
    drives: new Map(),
    nics: new Map(),
  };
  private readonly exitedPromise: Promise<void>;
  private resolveExit: () => void = () => {};

  private constructor(spec: OpenApiDocument, dir: string, options: FirecrackerDoubleOptions) {
    this.spec = spec;
    this.dir = dir;
    this.socketPath = options.socketPath ?? path.join(dir, 'firecracker.socket');
    this.options = {
      ...options,
      instanceId: options.instanceId ?? 'double-vm',
      ctrlAltDelExits: options.ctrlAltDelExits ?? true,
    };
    this.exitedPromise = new Promise((resolve) => (this.resolveExit = resolve));
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        this.handle(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8'), res),
      );
    });
  }

  static async start(
    spec: OpenApiDocument,
    options: FirecrackerDoubleOptions = {},
  ): Promise<FirecrackerDouble> {
    // Only a directory of its own is removed on close.
    const dir = options.socketPath === undefined ? await mkdtemp(path.join(tmpdir(), 'grim-fcd-')) : '';
    const double = new FirecrackerDouble(spec, dir, options);
    await new Promise<void>((resolve, reject) => {
      double.server.once('error', reject);
      double.server.listen(double.socketPath, resolve);
    });
    return double;
  }

  /** Resolves true once the "process" exited, false after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.exitedPromise.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** SIGKILL: the process and its socket disappear at once. */
  async kill(): Promise<void> {
    await this.exit();
  }

  async close(): Promise<void> {
    await this.exit();
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true });
  }

  private async exit(): Promise<void> {
    if (this.exited) return;
    this.exited = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.resolveExit();
  }

  private handle(method: string, url: string, text: string, res: http.ServerResponse): void {
    const record: RecordedRequest = {
      method,
      path: url,
      body: undefined,
      status: 0,
      specIssues: [],
      responseIssues: [],
    };
    this.requests.push(record);
    const matched: { op?: MatchedOperation } = {};
    const answer = (status: number, body?: unknown): void => {
      record.status = status;
      if (matched.op !== undefined)
        record.responseIssues = this.spec.validateResponse(matched.op, status, body);
      const payload = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(payload);
      this.options.onRequest?.(record);
    };
    const fault = (message: string): void => {
      record.fault = message;
      answer(400, { fault_message: message });
    };
    try {
      record.body = text.length === 0 ? undefined : JSON.parse(text);
    } catch (err) {
      return fault(
        `An error occurred when deserializing the json body of a request: ${(err as Error).message}`,
      );
    }
    const checked = this.spec.validateRequest(
      { method, url, body: record.body },
      { forbidUnknownProperties: true },
    );
    record.specIssues = checked.issues;
    const match = checked.match;
    matched.op = match;
    if (match === undefined) return fault(`Invalid request method and/or path: ${method} ${url}.`);
    if (checked.issues.length > 0) {
      return fault(
        `An error occurred when deserializing the json body of a request: ${formatIssues(checked.issues)}`,
      );
    }
    try {
      const result = this.apply(match, record.body as Json);
      if (result === undefined) answer(204);
      else answer(200, result);
    } catch (err) {
      if (err instanceof Fault) fault(err.message);
      else answer(500, { fault_message: `firecracker-double bug: ${(err as Error).message}` });
    }
  }

  private apply(match: MatchedOperation, body: Json): unknown {
    const key = `${match.method} ${match.template}`;
    if (match.method === 'PUT' && PRE_BOOT_ONLY.has(match.template) && this.state !== 'Not started') {
      throw new Fault(AFTER_START);
    }
    const pathId = (name: string, field: string): string => {
      const id = match.pathParams[name];
      if (!/^[A-Za-z0-9_]+$/.test(id))
        throw new Fault(
          `Invalid ID: ${id}. API Resource IDs can only contain alphanumeric characters and underscores.`,
        );
      if (body[field] !== id)
        throw new Fault(`The id from the path [${id}] does not match the id from the body [${body[field]}]!`);
      return id;
    };
    switch (key) {
      case 'GET /':
        return {
          app_name: 'Firecracker',
          id: this.options.instanceId,
          state: this.state,
          vmm_version: '1.16.1',
        };
      case 'GET /machine-config':
        return this.config.machine;
      case 'GET /vm/config':
        return this.fullConfig();
      case 'PUT /machine-config':
        this.config.machine = { smt: false, track_dirty_pages: false, ...body };
        return undefined;
      case 'PUT /boot-source':
        this.config.bootSource = body;
        return undefined;
      case 'PUT /drives/{drive_id}': {
        const id = pathId('drive_id', 'drive_id');
        const otherRoot = [...this.config.drives.values()].some((d) => d.is_root_device && d.drive_id !== id);
        if (body.is_root_device && otherRoot) throw new Fault('A root block device already exists!');
        if (
          body.socket === undefined &&
          (body.path_on_host === undefined || body.is_read_only === undefined)
        ) {
          throw new Fault(
            'Unable to create the block device: a virtio-block drive needs path_on_host and is_read_only',
          );
        }
        this.config.drives.set(id, body);
        return undefined;
      }
      case 'PUT /network-interfaces/{iface_id}': {
        const id = pathId('iface_id', 'iface_id');
        if (body.guest_mac !== undefined && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(body.guest_mac)) {
          throw new Fault(`Invalid MAC address: ${body.guest_mac}`);
        }
        for (const nic of this.config.nics.values()) {
          if (nic.iface_id !== id && nic.host_dev_name === body.host_dev_name)
            throw new Fault(`The host device name ${body.host_dev_name} is already in use.`);
          if (nic.iface_id !== id && body.guest_mac !== undefined && nic.guest_mac === body.guest_mac)
            throw new Fault(`The MAC address is already in use: ${body.guest_mac}`);
        }
        this.config.nics.set(id, body);
        return undefined;
      }
      case 'PUT /mmds/config':
        if (
          !body.network_interfaces.every((id: string) => this.config.nics.has(id)) ||
          body.network_interfaces.length === 0
        ) {
          throw new Fault(
            'The list of network interface IDs that allow forwarding MMDS requests is empty or contains an ID that does not correspond to any existing network interface.',
          );
        }
        this.config.mmdsConfig = body;
        return undefined;
      case 'PUT /mmds':
        this.config.mmds = body ?? {};
        return undefined;
      case 'GET /mmds':
        if (this.config.mmds === undefined) throw new Fault('The MMDS data store is not initialized.');
        return this.config.mmds;
      case 'PUT /metrics':
        if (this.config.metrics !== undefined) throw new Fault('Reinitialization of metrics not allowed.');
        this.config.metrics = body;
        return undefined;
      case 'PUT /actions':
        return this.action(body.action_type);
      default:
        throw new Fault(`firecracker-double does not model ${key}`);
    }
  }

  private action(type: string): undefined {
    if (type === 'InstanceStart') {
      if (this.state !== 'Not started') throw new Fault(AFTER_START);
      if (this.config.bootSource === undefined)
        throw new Fault('Cannot start microvm without kernel configuration.');
      this.state = 'Running';
    } else if (type === 'SendCtrlAltDel') {
      if (this.state !== 'Running') throw new Fault(BEFORE_START);
      if (this.options.ctrlAltDelExits) setImmediate(() => void this.exit());
    } else if (type === 'FlushMetrics') {
      if (this.config.metrics === undefined) throw new Fault('Metrics system not initialized.');
      appendFileSync(this.config.metrics.metrics_path, `${JSON.stringify(this.metricsLine())}\n`); // before the answer
    }
    return undefined;
  }

  private metricsLine(): Json {
    const count = (template: string): number =>
      this.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(template)).length;
    const line: Json = {
      utc_timestamp_ms: Date.now(),
      put_api_requests: {
        actions_count: count('/actions'),
        drive_count: count('/drives'),
        machine_cfg_count: count('/machine-config'),
      },
      vcpu: { exit_io_in: 0, exit_io_in_agg: { min_us: 3, max_us: 42, sum_us: 45 } },
      latencies_us: { vmm_pause_vm: 0 },
    };
    // Like Firecracker: counters are the increase since the previous line; "net" and "block" aggregate
    // the per-device groups.
    for (const id of this.config.nics.keys())
      line[`net_${id}`] = { rx_bytes_count: 1500, tx_bytes_count: 900 };
    for (const id of this.config.drives.keys())
      line[`block_${id}`] = { read_bytes: 4096, write_bytes: 512, read_count: 1, write_count: 1 };
    line.net = { rx_bytes_count: 1500 * this.config.nics.size, tx_bytes_count: 900 * this.config.nics.size };
    line.block = { read_bytes: 4096 * this.config.drives.size, write_bytes: 512 * this.config.drives.size };
    return line;
  }

  private fullConfig(): Json {
    const out: Json = {
      'machine-config': this.config.machine,
      drives: [...this.config.drives.values()],
      'network-interfaces': [...this.config.nics.values()],
    };
    if (this.config.bootSource) out['boot-source'] = this.config.bootSource;
    if (this.config.mmdsConfig) out['mmds-config'] = this.config.mmdsConfig;
    if (this.config.metrics) out.metrics = this.config.metrics;
    return out;
  }

  /** Every request that reached the double, with the ones the spec rejects. */
  invalidRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.specIssues.length > 0);
  }
}
