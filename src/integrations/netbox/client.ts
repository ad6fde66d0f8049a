// IpAllocator backed by NetBox's REST API (4.2). Addresses come from
// POST /api/ipam/prefixes/{id}/available-ips/, which NetBox serialises with an advisory lock, so
// concurrent allocations never collide. Each address grim owns carries the tag `grim` (configurable)
// and the description "grim:<owner>"; release finds addresses by both and deletes them.
import {
  cidrContains,
  parseCidr,
  parseIpv4,
  type IpAllocation,
  type IpAllocator,
} from '../../domain/ipam.ts';

export interface NetboxPoolConfig {
  prefix: string; // the NetBox prefix to allocate from, e.g. "10.20.0.0/24"
  vrfId?: number; // only needed when the same prefix exists in several VRFs
  /** The guest gateway. When absent, the prefix's custom field "gateway" is used. */
  gateway?: string;
}

/** Looks a pool up when it is used (e.g. in grim's database); undefined when there is no such pool. */
export type NetboxPoolResolver = (
  poolId: string,
) => NetboxPoolConfig | undefined | Promise<NetboxPoolConfig | undefined>;

export interface NetboxClientOptions {
  baseUrl: string; // e.g. https://netbox.example.net (no trailing /api)
  token: string;
  pools: Record<string, NetboxPoolConfig> | NetboxPoolResolver;
  tag?: { name: string; slug: string }; // default grim/grim; created when missing
  timeoutMs?: number; // per request, default 15 s
  fetch?: typeof fetch;
}

export class NetboxError extends Error {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  constructor(method: string, path: string, status: number, detail: string) {
    super(`NetBox ${method} ${path} failed (${status}): ${detail}`);
    this.name = 'NetboxError';
    this.status = status;
    this.method = method;
    this.path = path;
  }
}

interface NetboxIp {
  id: number;
  address: string; // "10.20.0.7/24"
  description?: string;
}

interface NetboxPrefix {
  id: number;
  prefix: string;
  vrf?: { id: number; name: string } | null;
  custom_fields?: Record<string, unknown>;
}

interface Paginated<T> {
  count: number;
  next?: string | null;
  results: T[];
}

interface PoolContext {
  prefix: NetboxPrefix;
  prefixLength: number;
  gateway: string;
}

const OWNER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,190}$/;

function detailOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && 'detail' in parsed)
      return String((parsed as { detail: unknown }).detail);
    return JSON.stringify(parsed); // field errors: {"tags": ["..."]}
  } catch {
    return text.trim().slice(0, 300) || 'no response body';
  }
}

export class NetboxIpAllocator implements IpAllocator {
  private readonly options: NetboxClientOptions;
  private readonly tag: { name: string; slug: string };
  private readonly fetchFn: typeof fetch;
  private tagReady?: Promise<void>;
  private readonly pools = new Map<string, Promise<PoolContext>>();
  private readonly inFlight = new Map<string, Promise<IpAllocation>>();

  constructor(options: NetboxClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl))
      throw new Error(`NetBox baseUrl must be http(s)://…, got "${options.baseUrl}"`);
    if (options.token.length === 0) throw new Error('NetBox token is empty');
    this.options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.tag = options.tag ?? { name: 'grim', slug: 'grim' };
    this.fetchFn = options.fetch ?? fetch;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Token ${this.options.token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchFn(`${this.options.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new NetboxError(
        method,
        path,
        0,
        `cannot reach ${this.options.baseUrl}: ${(err as Error).message}`,
      );
    }
    const text = await response.text();
    if (!response.ok) throw new NetboxError(method, path, response.status, detailOf(text));
    if (text.length === 0) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new NetboxError(method, path, response.status, `answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private ownerDescription(owner: string): string {
    if (!OWNER.test(owner)) throw new Error(`owner "${owner}" must be 1-191 characters of [A-Za-z0-9_.:-]`);
    return `grim:${owner}`;
  }

  private async findOwned(owner: string): Promise<NetboxIp[]> {
    const query = new URLSearchParams({
      description: this.ownerDescription(owner),
      tag: this.tag.slug,
      limit: '1000',
    });
    const page = await this.call<Paginated<NetboxIp>>('GET', `/api/ipam/ip-addresses/?${query}`);
    return page.results;
  }

  private ensureTag(): Promise<void> {
    this.tagReady ??= (async () => {
      const query = new URLSearchParams({ slug: this.tag.slug });
      const found = await this.call<Paginated<unknown>>('GET', `/api/extras/tags/?${query}`);
      if (found.count === 0) {
        await this.call('POST', '/api/extras/tags/', {
          name: this.tag.name,
          slug: this.tag.slug,
          description: 'Managed by grim',
        });
      }
    })().catch((err: unknown) => {
      this.tagReady = undefined; // let the next call retry
      throw err;
    });
    return this.tagReady;
  }

  private async poolConfig(poolId: string): Promise<NetboxPoolConfig> {
    const pools = this.options.pools;
    const config = typeof pools === 'function' ? await pools(poolId) : pools[poolId];
    if (config === undefined) throw new Error(`no NetBox pool "${poolId}" is configured`);
    return config;
  }

  /** The pool's prefix and gateway, looked up once per pool definition (a changed definition is looked up again). */
  private async poolContext(poolId: string): Promise<PoolContext> {
    const config = await this.poolConfig(poolId);
    const key = JSON.stringify([poolId, config.prefix, config.vrfId ?? null, config.gateway ?? null]);
    let pending = this.pools.get(key);
    if (pending === undefined) {
      pending = this.loadPool(poolId, config);
      pending.catch(() => this.pools.delete(key));
      this.pools.set(key, pending);
    }
    return pending;
  }

  private async loadPool(poolId: string, config: NetboxPoolConfig): Promise<PoolContext> {
    const query = new URLSearchParams({ prefix: config.prefix });
    if (config.vrfId !== undefined) query.set('vrf_id', String(config.vrfId));
    const found = await this.call<Paginated<NetboxPrefix>>('GET', `/api/ipam/prefixes/?${query}`);
    if (found.count === 0) throw new Error(`NetBox has no prefix ${config.prefix} (pool ${poolId})`);
    if (found.count > 1)
      throw new Error(`NetBox has ${found.count} prefixes ${config.prefix}; set vrfId for pool ${poolId}`);
    const prefix = found.results[0];
    const gatewayField = prefix.custom_fields?.gateway;
    const gateway = (config.gateway ?? (typeof gatewayField === 'string' ? gatewayField : undefined))?.split(
      '/',
    )[0];
    if (gateway === undefined || gateway.length === 0) {
      throw new Error(
        `pool ${poolId}: no gateway configured and prefix ${prefix.prefix} has no "gateway" custom field`,
      );
    }
    const prefixLength = Number(prefix.prefix.split('/')[1]);
    await this.recordGateway(prefix, gateway, prefixLength);
    return { prefix, prefixLength, gateway };
  }

  /** NetBox only skips addresses it knows: make sure the gateway exists so it is never handed out. */
  private async recordGateway(prefix: NetboxPrefix, gateway: string, prefixLength: number): Promise<void> {
    const query = new URLSearchParams({ address: gateway, parent: prefix.prefix });
    if (prefix.vrf) query.set('vrf_id', String(prefix.vrf.id));
    const found = await this.call<Paginated<NetboxIp>>('GET', `/api/ipam/ip-addresses/?${query}`);
    if (found.count > 0) return;
    await this.call('POST', '/api/ipam/ip-addresses/', {
      address: `${gateway}/${prefixLength}`,
      status: 'active',
      description: 'gateway (recorded by grim)',
      ...(prefix.vrf ? { vrf: { name: prefix.vrf.name } } : {}),
    });
  }

  allocate(poolId: string, owner: string): Promise<IpAllocation> {
    const key = `${poolId}\u0000${owner}`;
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.allocateOnce(poolId, owner).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async allocateOnce(poolId: string, owner: string): Promise<IpAllocation> {
    const description = this.ownerDescription(owner);
    const [context] = await Promise.all([this.poolContext(poolId), this.ensureTag()]);
    const result = (cidr: string): IpAllocation => ({
      address: cidr.split('/')[0],
      prefixLength: context.prefixLength,
      gateway: context.gateway,
    });
    const network = parseCidr(context.prefix.prefix);
    const existing = (await this.findOwned(owner)).find((ip) =>
      cidrContains(network, parseIpv4(ip.address.split('/')[0])),
    );
    if (existing) return result(existing.address);
    // The 4.2 schema types this body as IPAddressRequest[] with `address` required, but the server
    // picks the address; a list without `address` is what NetBox accepts (see SOURCE.md).
    const created = await this.call<NetboxIp[]>(
      'POST',
      `/api/ipam/prefixes/${context.prefix.id}/available-ips/`,
      [{ status: 'active', description, tags: [{ name: this.tag.name, slug: this.tag.slug }] }],
    );
    if (!Array.isArray(created) || created.length !== 1) {
      throw new Error(
        `NetBox available-ips answered ${JSON.stringify(created).slice(0, 200)}, expected one address`,
      );
    }
    return result(created[0].address);
  }

  async release(owner: string): Promise<void> {
    for (const ip of await this.findOwned(owner)) {
      try {
        await this.call('DELETE', `/api/ipam/ip-addresses/${ip.id}/`);
      } catch (err) {
        if (!(err instanceof NetboxError && err.status === 404)) throw err; // already gone is fine
      }
    }
  }
}
