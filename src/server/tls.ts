import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  caCertPath?: string;
}

/**
 * A local CA and a server certificate, generated once with the system `openssl` (argv only, no shell).
 * The CLI pins the CA (`grim login --ca-file <dataDir>/tls/ca.crt`).
 */
export function ensureLocalCa(dataDir: string, host: string): TlsMaterial {
  const dir = join(dataDir, 'tls');
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const crt = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  if (!existsSync(crt) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (!existsSync(ca)) {
      ossl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        caKey,
        '-out',
        ca,
        '-days',
        '3650',
        '-subj',
        '/CN=grim local CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      );
    }
    const san = [`DNS:localhost`, `IP:127.0.0.1`, isIP(host) ? `IP:${host}` : `DNS:${host}`].join(',');
    const csr = join(dir, 'server.csr');
    const ext = join(dir, 'server.ext');
    writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    ossl(
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
      `/CN=${host}`,
    );
    ossl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      crt,
      '-days',
      '825',
      '-extfile',
      ext,
    );
    for (const f of [caKey, key]) chmodSync(f, 0o600);
  }
  return { key: readFileSync(key), cert: readFileSync(crt), caCertPath: ca };
}
