/**
 * grim's build registry: Debian's docker-registry (distribution 2.8) run by grim's supervisor on the control
 * node, storage in a directory (or a control-node volume) or an S3 bucket (a SeaweedFS cluster's gateway, the
 * registry's own key; blobs are served through the registry, never redirected to S3), TLS with a certificate from grim's local CA (the CA every grim client already
 * pins; build workers get it in their registry-ca directory, grim's own registry client trusts it), `auth: token` against grim itself (`/api/registry/token`, JWTs signed with a key
 * only grim holds). Two accounts grim manages: `builder` (push and pull, used by Buildbot's build step) and
 * `puller` (pull only, used by grim's runtimes through setManagedRegistryCredentials). Anonymous callers get no
 * access at all.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createSign, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SCRIPTS_DIR } from '../../scripts/loader.ts';
import { DomainError } from '../../domain/errors.ts';
import {
  setManagedRegistryCredentials,
  setManagedRegistryTls,
  type RegistryCredentials,
} from '../../oci/registry-client.ts';
import { SupervisedService } from './local-scripts.ts';
import { envFile } from '../../drivers/env-file.ts';
import { ensureCa, issueServerCertificate } from '../../server/tls.ts';

export interface RegistrySettings {
  dir: string;
  /** host:port the registry listens on (loopback). */
  addr: string;
  /** grim's own URL as the registry's clients reach it (the token realm). */
  grimUrl: string;
  /** grim's data directory: its local CA signs the registry's certificate. */
  dataDir: string;
}

/** Where images go: a directory (a control-node volume's, or one under grim's data directory) or S3. */
export type RegistryStorage =
  | { kind: 'directory'; path: string }
  | { kind: 's3'; endpoint: string; bucket: string; accessKey: string; secretKey: string };

/** distribution's `storage:` section for a storage choice. */
export function storageSection(s: RegistryStorage): Record<string, unknown> {
  const driver =
    s.kind === 'directory'
      ? { filesystem: { rootdirectory: s.path } }
      : {
          s3: {
            region: 'us-east-1',
            regionendpoint: s.endpoint,
            bucket: s.bucket,
            accesskey: s.accessKey,
            secretkey: s.secretKey,
            secure: s.endpoint.startsWith('https:'),
            v4auth: true,
            rootdirectory: '/registry',
          },
          redirect: { disable: true },
        };
  return { ...driver, delete: { enabled: true } };
}

const SERVICE = 'grim-build-registry';
const ISSUER = 'grim';
const b64url = (d: Buffer | string) => Buffer.from(d).toString('base64url');

export class RegistryCompanion {
  readonly settings: RegistrySettings;
  readonly service: SupervisedService;

  constructor(settings: RegistrySettings) {
    this.settings = settings;
    this.service = new SupervisedService('registry', join(settings.dir, 'svc'));
  }

  get host(): string {
    return this.settings.addr;
  }

  private file(name: string): string {
    return join(this.settings.dir, name);
  }

  private account(user: 'builder' | 'puller'): RegistryCredentials {
    const p = this.file(`${user}.password`);
    if (!existsSync(p)) {
      mkdirSync(this.settings.dir, { recursive: true, mode: 0o700 });
      writeFileSync(p, randomBytes(24).toString('hex'), { mode: 0o600 });
    }
    return { username: user, password: readFileSync(p, 'utf8').trim() };
  }

  async builderCredentials(): Promise<RegistryCredentials> {
    return this.account('builder');
  }

  /** Directory holding ca.crt, the CA the registry's certificate chains to (buildah --cert-dir). */
  get caDir(): string {
    return this.file('ca');
  }

  caPem(): string {
    return readFileSync(join(this.caDir, 'ca.crt'), 'utf8');
  }

  /** The registry's certificate from grim's CA (for its address and loopback), and the CA trusted in-process. */
  private ensureTls(): void {
    const host = this.settings.addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const stamp = this.file('tls.hosts');
    if (!existsSync(this.file('tls.crt')) || readFileSync(stamp, 'utf8') !== host) {
      issueServerCertificate(this.settings.dataDir, this.file('tls'), [host, '127.0.0.1', 'localhost']);
      writeFileSync(stamp, host);
    }
    mkdirSync(this.caDir, { recursive: true });
    copyFileSync(ensureCa(this.settings.dataDir).caCertPath, join(this.caDir, 'ca.crt'));
    trustCa(this.caPem());
    setManagedRegistryTls(this.host, new URL(this.settings.grimUrl));
  }

  /** Writes the configuration and signing key once, starts the registry and waits until it answers. */
  async ensureRunning(storage: RegistryStorage): Promise<void> {
    const dir = this.settings.dir;
    mkdirSync(join(dir, 'svc'), { recursive: true, mode: 0o700 });
    if (storage.kind === 'directory') mkdirSync(storage.path, { recursive: true });
    if (!existsSync(this.file('token.key')))
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', this.file('token.key'), '-out', this.file('token.crt'), '-days', '3650', '-subj', '/CN=grim registry token issuer',
      ], { stdio: 'ignore' }); // prettier-ignore
    const config = stringify(
      {
        version: 0.1,
        log: { level: 'info' },
        storage: storageSection(storage),
        http: {
          addr: this.settings.addr,
          secret: this.secret(),
          tls: { certificate: this.file('tls.crt'), key: this.file('tls.key') },
        },
        health: { storagedriver: { enabled: false } },
        auth: {
          token: {
            realm: `${this.settings.grimUrl}/api/registry/token`,
            service: SERVICE,
            issuer: ISSUER,
            rootcertbundle: this.file('token.crt'),
          },
        },
      },
      { lineWidth: 0 },
    );
    this.ensureTls();
    // A new storage (or address) needs the running registry restarted on it.
    const before = existsSync(this.file('config.yml')) ? readFileSync(this.file('config.yml'), 'utf8') : '';
    if (before !== config && this.service.running()) await this.service.stop();
    writeFileSync(this.file('config.yml'), config, { mode: 0o600 });
    writeFileSync(join(dir, 'svc', 'run'), readFileSync(`${SCRIPTS_DIR}build/registry-run.sh`));
    writeFileSync(join(dir, 'svc', 'environment'), envFile({ REGISTRY_CONFIG: this.file('config.yml') }));
    setManagedRegistryCredentials(this.host, this.account('puller'));
    this.service.start();
    const end = Date.now() + 20_000;
    for (;;) {
      const status = await fetch(`https://${this.host}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 401) return;
      if (Date.now() > end)
        throw new DomainError(
          'unavailable',
          `the build registry did not start:\n${this.service.log().slice(-2000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private secret(): string {
    const p = this.file('http.secret');
    if (!existsSync(p)) writeFileSync(p, randomBytes(16).toString('hex'), { mode: 0o600 });
    return readFileSync(p, 'utf8').trim();
  }

  start(): void {
    if (!existsSync(this.file('config.yml'))) return;
    this.ensureTls();
    setManagedRegistryCredentials(this.host, this.account('puller'));
    this.service.start();
  }

  async stop(): Promise<void> {
    await this.service.stop();
  }

  /**
   * The token endpoint (distribution's token spec): Basic credentials of a managed account → a short-lived
   * JWT granting what that account may do on the requested repositories. Wrong credentials: 401.
   */
  issueToken(
    authorization: string | undefined,
    service: string | null,
    scopes: string[],
  ):
    | { status: number; error: { code: string; message: string } }
    | { status: 200; token: { token: string; expires_in: number; issued_at: string } } {
    if (!existsSync(this.file('token.crt')) || !existsSync(this.file('builder.password')))
      return { status: 404, error: { code: 'not_found', message: 'the build registry is not set up' } };
    let user: 'builder' | 'puller' | null = null;
    if (authorization?.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
      const given = Buffer.from(rest.join(':'));
      for (const u of ['builder', 'puller'] as const) {
        const want = Buffer.from(this.account(u).password);
        if (name === u && given.length === want.length && timingSafeEqual(given, want)) user = u;
      }
      if (!user)
        return { status: 401, error: { code: 'unauthenticated', message: 'bad registry credentials' } };
    }
    if (service !== null && service !== SERVICE)
      return { status: 400, error: { code: 'invalid', message: `unknown service ${service.slice(0, 64)}` } };
    const allowed = user === 'builder' ? ['pull', 'push'] : user === 'puller' ? ['pull'] : [];
    const access = scopes.slice(0, 16).flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !/^[a-z0-9._/-]{1,255}$/.test(name)) return [];
      return [{ type, name, actions: (actions ?? '').split(',').filter((a) => allowed.includes(a)) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const cert = new X509Certificate(readFileSync(this.file('token.crt')));
    const header = { typ: 'JWT', alg: 'ES256', x5c: [cert.raw.toString('base64')] };
    const claims = { iss: ISSUER, sub: user ?? '', aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now,
      jti: randomBytes(8).toString('hex'), access }; // prettier-ignore
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('SHA256')
      .update(input)
      .sign({ key: createPrivateKey(readFileSync(this.file('token.key'))), dsaEncoding: 'ieee-p1363' });
    return {
      status: 200,
      token: { token: `${input}.${b64url(signature)}`, expires_in: 300, issued_at: new Date().toISOString() },
    };
  }
}

/** Adds a CA to the ones this process's TLS clients (fetch, the registry client) trust, once. */
function trustCa(pem: string): void {
  const current = getCACertificates('default');
  if (!current.some((c) => c.trim() === pem.trim())) setDefaultCACertificates([...current, pem]);
}
