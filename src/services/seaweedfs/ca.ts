/**
 * The cluster's certificate authority for SeaweedFS's gRPC mutual TLS: one CA per environment, kept in
 * <data>/seaweedfs/<environment>/ (keys mode 0600), and one certificate per node (CN = node name, SAN = its
 * address) that the node uses for every SeaweedFS server and client it runs. Generated with the system
 * `openssl`, argv only.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ossl = (...args: string[]) => run('openssl', args, { timeout: 30_000 });

export interface NodeCert {
  ca: string;
  cert: string;
  key: string;
}

/** One queue per CA directory: concurrent callers never create the CA (or one node's key) twice. */
const queues = new Map<string, Promise<unknown>>();
function serialized<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const next = (queues.get(dir) ?? Promise.resolve()).catch(() => {}).then(fn);
  queues.set(dir, next);
  return next;
}

export class ClusterCa {
  readonly dir: string;
  constructor(dataDir: string, environment: string) {
    this.dir = join(dataDir, 'seaweedfs', 'clusters', environment);
  }

  ensure(): Promise<string> {
    return serialized(this.dir, () => this.#ensure());
  }

  nodeCert(node: string, address: string, renew = false): Promise<NodeCert> {
    return serialized(this.dir, () => this.#nodeCert(node, address, renew));
  }

  async #ensure(): Promise<string> {
    const crt = join(this.dir, 'ca.crt');
    const key = join(this.dir, 'ca.key');
    if (!existsSync(crt) || !existsSync(key)) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await ossl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-days',
        '3650',
        '-subj',
        `/CN=grim SeaweedFS CA ${this.dir.split('/').pop()}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      );
      await chmod(key, 0o600);
    }
    return readFile(crt, 'utf8');
  }

  /** A certificate for a node (created once; `renew` replaces it). */
  async #nodeCert(node: string, address: string, renew: boolean): Promise<NodeCert> {
    const ca = await this.#ensure();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(node)) throw new Error(`bad node name ${node}`);
    const crt = join(this.dir, `node-${node}.crt`);
    const key = join(this.dir, `node-${node}.key`);
    if (renew || !existsSync(crt) || !existsSync(key)) {
      const csr = join(this.dir, `node-${node}.csr`);
      const ext = join(this.dir, `node-${node}.ext`);
      const san = [`DNS:${node}`, isIP(address) ? `IP:${address}` : `DNS:${address}`].join(',');
      await writeFile(
        ext,
        `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`,
      );
      await ossl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        csr,
        '-subj',
        `/CN=${node}`,
      );
      await chmod(key, 0o600);
      await ossl(
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        join(this.dir, 'ca.crt'),
        '-CAkey',
        join(this.dir, 'ca.key'),
        '-CAcreateserial',
        '-out',
        crt,
        '-days',
        '825',
        '-extfile',
        ext,
      );
      await rm(csr, { force: true });
      await rm(ext, { force: true });
    }
    return { ca, cert: await readFile(crt, 'utf8'), key: await readFile(key, 'utf8') };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
