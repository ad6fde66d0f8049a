/**
 * A real local registry (Debian `docker-registry`, distribution 2.8) on 127.0.0.1:<random port>, storage in
 * a temp dir, stopped by PID; and a tiny JWT token server for its `auth: token:` mode.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createSign, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export function registryBinaryAvailable(): boolean {
  return existsSync(REGISTRY_BINARY);
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RegistryTokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundlePath: string;
}

export interface LocalRegistry {
  /** `127.0.0.1:<port>`, usable as the registry part of image references. */
  host: string;
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startRegistry(
  options: { tokenAuth?: RegistryTokenAuthConfig } = {},
): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'grim-registry-'));
  const port = await freePort();
  const auth = options.tokenAuth
    ? [
        'auth:',
        '  token:',
        `    realm: ${options.tokenAuth.realm}`,
        `    service: ${options.tokenAuth.service}`,
        `    issuer: ${options.tokenAuth.issuer}`,
        `    rootcertbundle: ${options.tokenAuth.rootCertBundlePath}`,
      ]
    : [];
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    'health:',
    '  storagedriver:',
    '    enabled: false',
    ...auth,
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), `${config}\n`);
  const logPath = join(dir, 'registry.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', logFd, logFd],
  });
  const log = () => readFileSync(logPath, 'utf8');
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      if (!(await waitForExit(child, 5000))) {
        process.kill(child.pid, 'SIGKILL');
        await waitForExit(child, 5000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      const text = log();
      await stop();
      throw new Error(`docker-registry exited early (${child.exitCode}):\n${text}`);
    }
    const status = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200 || status === 401) break;
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`docker-registry did not become ready:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host: `127.0.0.1:${port}`, port, dir, log, stop };
}

export interface TokenRequestRecord {
  service: string | null;
  scopes: string[];
  /** Decoded Basic username, when the client sent credentials. */
  user?: string;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function basicUser(req: IncomingMessage, users: Record<string, string>): string | undefined {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return undefined;
  const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  return users[user] !== undefined && users[user] === rest.join(':') ? user : undefined;
}

/**
 * Token server implementing the distribution token spec: GET <realm>?service=&scope=... → {token, expires_in}.
 * JWTs are RS256-signed with a fresh openssl-generated key; the self-signed cert goes in the `x5c` header
 * and is the registry's rootcertbundle. Anonymous users get `pull` only; `users` (basic auth) get what
 * they ask for. Wrong credentials → 401.
 */
export async function startTokenServer(users: Record<string, string>): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'grim-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', '/CN=grim-test-token-issuer',
  ], { stdio: 'ignore' }); // prettier-ignore
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const service = 'grim-test-registry';
  const issuer = 'grim-test-issuer';
  const requests: TokenRequestRecord[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const scopes = url.searchParams.getAll('scope');
    const record: TokenRequestRecord = { service: url.searchParams.get('service'), scopes };
    const sentCredentials = (req.headers.authorization ?? '').startsWith('Basic ');
    const user = basicUser(req, users);
    if (sentCredentials && !user) {
      requests.push(record);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    if (user) record.user = user;
    requests.push(record);
    const access = scopes.map((scope) => {
      const [type, name, actions] = scope.split(':');
      const wanted = (actions ?? '').split(',').filter(Boolean);
      return { type, name, actions: user ? wanted : wanted.filter((a) => a === 'pull') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token: `${input}.${b64url(signature)}`,
        expires_in: 300,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
