// HTTP/1.1 client for the Firecracker API on its unix socket. Non-2xx answers become
// FirecrackerApiError carrying Firecracker's fault_message.
import http from 'node:http';
import type {
  ActionType,
  ApiRequest,
  FullVmConfiguration,
  InstanceInfo,
  MachineConfiguration,
} from './api-types.ts';
import {
  actionRequest,
  bootSourceRequest,
  describeInstanceRequest,
  driveRequest,
  machineConfigRequest,
  metricsRequest,
  mmdsConfigRequest,
  mmdsDataRequest,
  networkInterfaceRequest,
  vmConfigRequest,
} from './requests.ts';

export class FirecrackerApiError extends Error {
  readonly status: number;
  readonly faultMessage: string;
  readonly request: ApiRequest;
  constructor(request: ApiRequest, status: number, faultMessage: string) {
    super(`Firecracker ${request.method} ${request.path} failed (${status}): ${faultMessage}`);
    this.name = 'FirecrackerApiError';
    this.status = status;
    this.faultMessage = faultMessage;
    this.request = request;
  }
}

export interface FirecrackerApiClientOptions {
  timeoutMs?: number; // per request; default 10 s
}

function faultMessageOf(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { fault_message?: unknown };
    if (typeof parsed.fault_message === 'string') return parsed.fault_message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim() || `HTTP ${status} without a body`;
}

export class FirecrackerApiClient {
  readonly socketPath: string;
  readonly timeoutMs: number;

  constructor(socketPath: string, options: FirecrackerApiClientOptions = {}) {
    this.socketPath = socketPath;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Sends one request; resolves with the parsed JSON body (undefined for 204). */
  send(request: ApiRequest): Promise<unknown> {
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          host: 'localhost',
          method: request.method,
          path: request.path,
          headers,
          agent: false,
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              reject(new FirecrackerApiError(request, status, faultMessageOf(status, text)));
              return;
            }
            if (text.length === 0) return resolve(undefined);
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new FirecrackerApiError(request, status, `response is not JSON: ${text.slice(0, 200)}`));
            }
          });
        },
      );
      req.on('timeout', () => {
        req.destroy(
          new Error(`Firecracker ${request.method} ${request.path}: no answer in ${this.timeoutMs} ms`),
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(
            new Error(`Firecracker API socket ${this.socketPath} is not accepting connections (${err.code})`),
          );
        } else reject(err);
      });
      req.end(payload);
    });
  }

  async putMachineConfig(size: { cpu: string | number; memoryMib: number }): Promise<void> {
    await this.send(machineConfigRequest(size));
  }

  async putBootSource(source: Parameters<typeof bootSourceRequest>[0]): Promise<void> {
    await this.send(bootSourceRequest(source));
  }

  async putDrive(drive: Parameters<typeof driveRequest>[0]): Promise<void> {
    await this.send(driveRequest(drive));
  }

  async putNetworkInterface(nic: Parameters<typeof networkInterfaceRequest>[0]): Promise<void> {
    await this.send(networkInterfaceRequest(nic));
  }

  async putMmdsConfig(config: Parameters<typeof mmdsConfigRequest>[0]): Promise<void> {
    await this.send(mmdsConfigRequest(config));
  }

  async putMmds(data: Record<string, unknown>): Promise<void> {
    await this.send(mmdsDataRequest(data));
  }

  async putMetrics(metricsPath: string): Promise<void> {
    await this.send(metricsRequest(metricsPath));
  }

  async action(action: ActionType): Promise<void> {
    await this.send(actionRequest(action));
  }

  instanceStart(): Promise<void> {
    return this.action('InstanceStart');
  }

  sendCtrlAltDel(): Promise<void> {
    return this.action('SendCtrlAltDel');
  }

  flushMetrics(): Promise<void> {
    return this.action('FlushMetrics');
  }

  async describeInstance(): Promise<InstanceInfo> {
    return (await this.send(describeInstanceRequest())) as InstanceInfo;
  }

  async getVmConfig(): Promise<FullVmConfiguration> {
    return (await this.send(vmConfigRequest())) as FullVmConfiguration;
  }

  async getMachineConfig(): Promise<MachineConfiguration> {
    return (await this.send({ method: 'GET', path: '/machine-config' })) as MachineConfiguration;
  }
}
