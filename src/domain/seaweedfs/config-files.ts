/**
 * The files grim writes to /etc/seaweedfs on a node, rendered from data (pure, no I/O):
 * security.toml (JWT signing keys and gRPC mutual TLS), filer.toml (leveldb2 or PostgreSQL), master.toml
 * (maintenance scripts) and s3.json (S3 identities). The node script writes each with mode 0600.
 */
import { LAYOUT } from './cluster.ts';

export interface JwtKeys {
  /** master mints, volume servers verify: writes */
  volumeWrite: string;
  /** master mints, volume servers verify: reads */
  volumeRead: string;
  /** S3 gateway (and other filer clients) mint, the filer verifies: filer HTTP writes */
  filerWrite: string;
  /** the same for filer HTTP reads */
  filerRead: string;
}

export const TLS_DIR = `${LAYOUT.configDir}/tls`;

/** A TOML basic string. */
export function tomlString(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

const COMPONENTS = ['master', 'volume', 'filer', 's3', 'client'] as const;

/**
 * security.toml. A server node gets the JWT keys and a certificate for every component; a client-only node
 * (one that only runs `weed mount`) gets the CA, a client certificate and the volume read key (a mount reads
 * chunks straight from volume servers and signs its own read tokens), no write or filer keys.
 * Every gRPC connection is mutual TLS: a peer needs a certificate signed by the cluster's CA.
 */
export function securityToml(p: {
  jwt?: JwtKeys;
  volumeReadKey?: string;
  expiresAfterSeconds?: number;
}): string {
  const exp = p.expiresAfterSeconds ?? 10;
  const lines = ['# written by grim: do not edit (grim storage rotate-keys rewrites it)'];
  const section = (name: string, key: string) =>
    lines.push('', `[${name}]`, `key = ${tomlString(key)}`, `expires_after_seconds = ${exp}`);
  // a mount reads chunks straight from volume servers, minting its own read token: it needs the read key only
  if (!p.jwt && p.volumeReadKey) section('jwt.signing.read', p.volumeReadKey);
  if (p.jwt) {
    section('jwt.signing', p.jwt.volumeWrite);
    section('jwt.signing.read', p.jwt.volumeRead);
    section('jwt.filer_signing', p.jwt.filerWrite);
    section('jwt.filer_signing.read', p.jwt.filerRead);
  }
  lines.push('', '[grpc]', `ca = ${tomlString(`${TLS_DIR}/ca.crt`)}`);
  const comps = p.jwt ? COMPONENTS : (['client'] as const);
  for (const c of comps)
    lines.push(
      '',
      `[grpc.${c}]`,
      `cert = ${tomlString(`${TLS_DIR}/node.crt`)}`,
      `key = ${tomlString(`${TLS_DIR}/node.key`)}`,
    );
  return lines.join('\n') + '\n';
}

export interface PostgresStore {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  sslmode: 'disable' | 'require' | 'verify-full';
}

/** filer.toml: one leveldb2 store on the node, or the shared PostgreSQL store (postgres2, table per bucket). */
export function filerToml(
  store: { kind: 'leveldb2' } | ({ kind: 'postgres'; schema: string } & PostgresStore),
): string {
  if (store.kind === 'leveldb2')
    return ['[leveldb2]', 'enabled = true', `dir = ${tomlString(`${LAYOUT.dataDir}/filer/ldb2`)}`, ''].join(
      '\n',
    );
  return [
    '[postgres2]',
    'enabled = true',
    'createTable = """',
    '  CREATE TABLE IF NOT EXISTS "%s" (',
    '    dirhash   BIGINT,',
    '    name      VARCHAR(65535),',
    '    directory VARCHAR(65535),',
    '    meta      bytea,',
    '    PRIMARY KEY (dirhash, name)',
    '  );',
    '"""',
    `hostname = ${tomlString(store.host)}`,
    `port = ${store.port}`,
    `username = ${tomlString(store.user)}`,
    `password = ${tomlString(store.password)}`,
    `database = ${tomlString(store.database)}`,
    `schema = ${tomlString(store.schema)}`,
    `sslmode = ${tomlString(store.sslmode)}`,
    'connection_max_idle = 10',
    'connection_max_open = 50',
    'connection_max_lifetime_seconds = 0',
    'enableUpsert = true',
    'upsertQuery = """',
    '  INSERT INTO "%[1]s" (dirhash, name, directory, meta) VALUES ($1, $2, $3, $4)',
    '    ON CONFLICT (dirhash, name) DO UPDATE SET directory = EXCLUDED.directory, meta = EXCLUDED.meta',
    '"""',
    '',
  ].join('\n');
}

/** master.toml: the maintenance the leader runs by itself (repair is also available on demand). */
export function masterToml(): string {
  return [
    '[master.maintenance]',
    'scripts = """',
    '  lock',
    '  volume.deleteEmpty -quietFor=24h -apply',
    '  s3.bucket.quota.enforce -apply',
    '  unlock',
    '"""',
    'sleep_minutes = 17',
    '',
  ].join('\n');
}

export type KeyAction = 'Read' | 'Write';

export interface S3Key {
  name: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  actions: KeyAction[];
  active: boolean;
}

/**
 * s3.json, SeaweedFS's identities file. grim's own admin identity is always present, so the gateway never
 * runs without identities (which would let anonymous requests in). Each key is limited to its bucket:
 * Read gives Read and List on it, Write gives Write (and Tagging).
 */
export function s3Identities(admin: { accessKey: string; secretKey: string }, keys: S3Key[]): string {
  const identities = [
    {
      name: 'grim-admin',
      credentials: [{ accessKey: admin.accessKey, secretKey: admin.secretKey }],
      actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
    },
  ];
  for (const k of keys) {
    if (!k.active) continue;
    const actions: string[] = [];
    if (k.actions.includes('Read')) actions.push(`Read:${k.bucket}`, `List:${k.bucket}`);
    if (k.actions.includes('Write')) actions.push(`Write:${k.bucket}`, `Tagging:${k.bucket}`);
    identities.push({
      name: k.name,
      credentials: [{ accessKey: k.accessKey, secretKey: k.secretKey }],
      actions,
    });
  }
  return JSON.stringify({ identities }, null, 1) + '\n';
}
