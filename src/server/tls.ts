import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  caCertPath?: string;
}

const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** grim's local CA (<dataDir>/tls/ca.crt and ca.key), created once; returns the certificate's path. */
export function ensureCa(dataDir: string): { caCertPath: string; caKeyPath: string } {
  const dir = join(dataDir, 'tls');
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  if (!existsSync(ca)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ossl(
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey,
      '-out', ca, '-days', '3650', '-subj', '/CN=grim local CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ); // prettier-ignore
    chmodSync(caKey, 0o600);
  }
  return { caCertPath: ca, caKeyPath: caKey };
}

/**
 * A server certificate signed by grim's local CA for `hosts` (IP addresses or DNS names), written as
 * `<prefix>.crt` and `<prefix>.key` (0600). Used for grim's own API and for services grim runs (its registry).
 */
export function issueServerCertificate(dataDir: string, prefix: string, hosts: string[]): void {
  const { caCertPath, caKeyPath } = ensureCa(dataDir);
  const san = [...new Set(hosts)].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const ext = `${prefix}.ext`;
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  ossl(
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${prefix}.key`,
    '-out', `${prefix}.csr`, '-subj', `/CN=${hosts[0]}`,
  ); // prettier-ignore
  ossl(
    'x509', '-req', '-in', `${prefix}.csr`, '-CA', caCertPath, '-CAkey', caKeyPath, '-CAcreateserial',
    '-out', `${prefix}.crt`, '-days', '825', '-extfile', ext,
  ); // prettier-ignore
  chmodSync(`${prefix}.key`, 0o600);
}

/**
 * A local CA and a server certificate, generated once with the system `openssl` (argv only, no shell).
 * The CLI pins the CA (`grim login --ca-file <dataDir>/tls/ca.crt`).
 */
export function ensureLocalCa(dataDir: string, host: string): TlsMaterial {
  const dir = join(dataDir, 'tls');
  const crt = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  const { caCertPath } = ensureCa(dataDir);
  if (!existsSync(crt) || !existsSync(key))
    issueServerCertificate(dataDir, join(dir, 'server'), [host, 'localhost', '127.0.0.1']);
  return { key: readFileSync(key), cert: readFileSync(crt), caCertPath };
}
