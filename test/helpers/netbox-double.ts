// A NetBox 4.2 double built from the official OpenAPI schema (../shared/specs/netbox-4.2-openapi.yaml):
// every request is checked against the schema (paths, query parameters, bodies), every 2xx answer is
// checked against the response schema, and available-ips allocation is serialised as NetBox's advisory
// lock does. Models only what grim's NetBox client uses: prefixes, tags, ip-addresses, available-ips.
// `netboxSkip` is why the double cannot run (the spec is missing), else false.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cidrContains, formatIpv4, parseCidr, parseIpv4, usableRange } from '../../src/domain/ipam.ts';
import { formatIssues, loadSharedSpec, type OpenApiDocument, type SpecIssue } from './openapi-validator.ts';

const loaded = await loadSharedSpec('netbox-4.2-openapi.yaml');
export const netboxSkip: string | false = typeof loaded === 'string' ? loaded : false;
export const netboxSpec = loaded as OpenApiDocument;
const spec = netboxSpec;
if (!netboxSkip) {
  // SOURCE.md: 4.2 types this body as IPAddressRequest[] with `address` required; the server picks
  // the address, so the double accepts a list of IPAddressRequest without `address`.
  const item = structuredClone(spec.schema('IPAddressRequest'));
  item.required = [];
  spec.correctRequestBody({
    method: 'POST',
    path: '/api/ipam/prefixes/{id}/available-ips/',
    schema: { type: 'array', items: item },
    reason: 'server-chosen address',
  });
}

export const NETBOX_TOKEN = '0123456789abcdef0123456789abcdef01234567';
export type Json = Record<string, any>;

export interface Recorded {
  method: string;
  url: string;
  status: number;
  issues: SpecIssue[];
  responseIssues: SpecIssue[];
}

export class NetboxDouble {
  readonly requests: Recorded[] = [];
  readonly ips = new Map<number, Json>();
  readonly tags: Json[] = [];
  readonly prefixes: Json[] = [];
  private nextId = 1;
  private lock: Promise<unknown> = Promise.resolve();
  private readers = 0;
  private releaseReaders: () => void = () => {};
  private readonly twoReaders = new Promise<void>((resolve) => (this.releaseReaders = resolve));
  private server?: http.Server;
  base = '';
  serialise = true;

  addPrefix(prefix: string, fields: Json = {}): void {
    const id = this.nextId++;
    this.prefixes.push({
      ...this.stamp('ipam/prefixes', id, prefix),
      family: { value: 4, label: 'IPv4' },
      prefix,
      vrf: null,
      scope_type: null,
      scope_id: null,
      scope: null,
      tenant: null,
      vlan: null,
      status: { value: 'active', label: 'Active' },
      role: null,
      is_pool: false,
      mark_utilized: false,
      description: '',
      comments: '',
      tags: [],
      custom_fields: {},
      children: 0,
      _depth: 0,
      ...fields,
    });
  }

  private stamp(kind: string, id: number, display: string): Json {
    const now = new Date().toISOString();
    return {
      id,
      url: `${this.base}/api/${kind}/${id}/`,
      display_url: `${this.base}/${kind}/${id}/`,
      display,
      created: now,
      last_updated: now,
    };
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, text: string, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const record: Recorded = { method, url, status: 0, issues: [], responseIssues: [] };
    this.requests.push(record);
    const send = (status: number, body?: unknown): void => {
      record.status = status;
      res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.headers.authorization === undefined)
      return send(403, { detail: 'Authentication credentials were not provided.' });
    if (req.headers.authorization !== `Token ${NETBOX_TOKEN}`) return send(403, { detail: 'Invalid token' });
    let body: unknown;
    try {
      body = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      return send(400, { detail: 'JSON parse error' });
    }
    const { issues, match } = spec.validateRequest({ method, url, body });
    record.issues = issues;
    if (match === undefined) return send(404, { detail: 'Not found.' });
    if (issues.length > 0) return send(400, { detail: formatIssues(issues) });
    const query = new URL(url, this.base).searchParams;
    const route = `${method} ${match.template}`;
    const reply = (status: number, payload?: unknown): void => {
      record.responseIssues = spec.validateResponse(match, status, payload);
      send(status, payload);
    };
    const page = (results: Json[]): Json => ({ count: results.length, next: null, previous: null, results });
    const has = (name: string, value: string): boolean =>
      !query.has(name) || query.getAll(name).includes(value);
    switch (route) {
      case 'GET /api/ipam/prefixes/':
        return reply(200, page(this.prefixes.filter((p) => has('prefix', p.prefix))));
      case 'GET /api/extras/tags/':
        return reply(200, page(this.tags.filter((t) => has('slug', t.slug))));
      case 'POST /api/extras/tags/': {
        const b = body as Json;
        if (this.tags.some((t) => t.slug === b.slug))
          return send(400, { slug: ['tag with this slug already exists.'] });
        const id = this.nextId++;
        const tag = {
          ...this.stamp('extras/tags', id, b.name),
          name: b.name,
          slug: b.slug,
          color: '9e9e9e',
          description: b.description ?? '',
          object_types: [],
          tagged_items: 0,
        };
        this.tags.push(tag);
        return reply(201, tag);
      }
      case 'GET /api/ipam/ip-addresses/': {
        const parent = query.get('parent');
        const found = [...this.ips.values()].filter(
          (ip) =>
            has('description', ip.description) &&
            (!query.has('tag') || ip.tags.some((t: Json) => query.getAll('tag').includes(t.slug))) &&
            (!query.has('address') || query.getAll('address').includes(ip.address.split('/')[0])) &&
            (parent === null || cidrContains(parseCidr(parent), parseIpv4(ip.address.split('/')[0]))),
        );
        return reply(200, page(found));
      }
      case 'POST /api/ipam/ip-addresses/':
        return reply(201, this.createIp(body as Json, (body as Json).address));
      case 'POST /api/ipam/prefixes/{id}/available-ips/':
        return this.allocate(Number(match.pathParams.id), body as Json[], reply, send);
      case 'DELETE /api/ipam/ip-addresses/{id}/': {
        const id = Number(match.pathParams.id);
        if (!this.ips.delete(id)) return send(404, { detail: 'No IPAddress matches the given query.' });
        return reply(204);
      }
      default:
        return send(501, { detail: `the NetBox double does not model ${route}` });
    }
  }

  private createIp(request: Json, address: string): Json {
    const id = this.nextId++;
    const tags = (request.tags ?? []).map((t: Json) => {
      const tag = this.tags.find((x) => x.name === t.name && (t.slug === undefined || x.slug === t.slug));
      if (tag === undefined)
        throw new Error(`Related object not found using the provided attributes: ${JSON.stringify(t)}`);
      return {
        id: tag.id,
        url: tag.url,
        display_url: tag.display_url,
        display: tag.display,
        name: tag.name,
        slug: tag.slug,
        color: tag.color,
      };
    });
    const ip = {
      ...this.stamp('ipam/ip-addresses', id, address),
      family: { value: 4, label: 'IPv4' },
      address,
      vrf: null,
      tenant: null,
      status: { value: request.status ?? 'active', label: 'Active' },
      assigned_object_type: null,
      assigned_object_id: null,
      assigned_object: null,
      nat_inside: null,
      nat_outside: [],
      // Real NetBox answers dns_name "" when unset, which the schema's pattern rejects: left out here.
      description: request.description ?? '',
      comments: '',
      tags,
      custom_fields: {},
    };
    this.ips.set(id, ip);
    return ip;
  }

  /** The database round trip. Unserialised, the first reader waits for a second one, forcing a race. */
  private async betweenReadAndWrite(): Promise<void> {
    if (this.serialise) return new Promise((r) => setImmediate(r));
    if (++this.readers >= 2) this.releaseReaders();
    await this.twoReaders;
  }

  /** Like NetBox: under a lock, take the lowest addresses not already recorded in the prefix. */
  private allocate(
    prefixId: number,
    requested: Json[],
    reply: (s: number, b?: unknown) => void,
    send: (s: number, b?: unknown) => void,
  ): Promise<void> {
    const work = async (): Promise<void> => {
      const prefix = this.prefixes.find((p) => p.id === prefixId);
      if (prefix === undefined) return send(404, { detail: 'No Prefix matches the given query.' });
      const cidr = parseCidr(prefix.prefix);
      const taken = new Set([...this.ips.values()].map((ip) => ip.address.split('/')[0]));
      const range = prefix.is_pool
        ? { first: cidr.network, last: cidr.network + 2 ** (32 - cidr.prefixLength) - 1 }
        : usableRange(cidr);
      const free: string[] = [];
      for (let a = range.first; a <= range.last && free.length < requested.length; a++)
        if (!taken.has(formatIpv4(a))) free.push(formatIpv4(a));
      await this.betweenReadAndWrite();
      if (free.length < requested.length) {
        return send(409, {
          detail: `An insufficient number of IP addresses are available within prefix ${prefix.prefix} (${requested.length} requested, ${free.length} available)`,
        });
      }
      try {
        reply(
          201,
          requested.map((r, i) => this.createIp(r, `${free[i]}/${cidr.prefixLength}`)),
        );
      } catch (err) {
        send(400, { tags: [(err as Error).message] });
      }
    };
    if (!this.serialise) return work();
    const run = this.lock.then(work);
    this.lock = run.catch(() => {});
    return run;
  }
}

/** A started double with prefix 10.20.0.0/24 (custom field gateway 10.20.0.1/24), stopped afterwards. */
export async function withNetbox(body: (nb: NetboxDouble) => Promise<void>): Promise<void> {
  const nb = new NetboxDouble();
  await nb.start();
  nb.addPrefix('10.20.0.0/24', { custom_fields: { gateway: '10.20.0.1/24' } });
  try {
    await body(nb);
  } finally {
    await nb.stop();
  }
}

/** Every request matched the schema, and every answer the double gave did too. */
export function assertAllSpecValid(nb: NetboxDouble): void {
  assert.deepEqual(
    nb.requests
      .filter((r) => r.issues.length > 0)
      .map((r) => `${r.method} ${r.url}: ${formatIssues(r.issues)}`),
    [],
  );
  assert.deepEqual(
    nb.requests
      .filter((r) => r.responseIssues.length > 0)
      .map((r) => `${r.method} ${r.url}: ${formatIssues(r.responseIssues)}`),
    [],
  );
}
