/**
 * A small S3 client for control-node backups: AWS Signature Version 4 over path-style URLs
 * (`<endpoint>/<bucket>/<key>`), so it works with any S3 endpoint (AWS, SeaweedFS, MinIO, Ceph RGW).
 * Objects are uploaded with one signed PUT whose payload hash is computed from the file first (up to S3's
 * 5 GiB single-PUT limit) and downloaded as a stream. Settings: GRIM_S3_ENDPOINT (default AWS in the region),
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1).
 */
import { createHash, createHmac } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface S3Settings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket's root). */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/some/prefix` → its bucket and prefix; null when the text is not an s3:// URL. */
export function parseS3Url(text: string): S3Location | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(text);
  if (!m) return null;
  if (!BUCKET.test(m[1])) throw new Error(`invalid S3 bucket name ${JSON.stringify(m[1])}`);
  const prefix = m[2].replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '..' || p === '.'))
    throw new Error(`invalid S3 key prefix ${JSON.stringify(prefix)}`);
  return { bucket: m[1], prefix };
}

export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const problems: string[] = [];
  if (!env.AWS_ACCESS_KEY_ID) problems.push('AWS_ACCESS_KEY_ID is not set');
  if (!env.AWS_SECRET_ACCESS_KEY) problems.push('AWS_SECRET_ACCESS_KEY is not set');
  if (problems.length) throw new Error(`S3 backups need credentials: ${problems.join(', ')}`);
  return {
    endpoint: (env.GRIM_S3_ENDPOINT || `https://s3.${region}.amazonaws.com`).replace(/\/+$/, ''),
    region,
    accessKeyId: env.AWS_ACCESS_KEY_ID!,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
  };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it (`/` kept in paths). */
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class S3Client {
  readonly s: S3Settings;
  constructor(s: S3Settings) {
    this.s = s;
  }

  /** Signs and sends one request; `body` is a Buffer or a file path (streamed). */
  private async send(
    method: string,
    bucket: string,
    key: string,
    o: { query?: Record<string, string>; body?: Buffer | { file: string }; now?: Date } = {},
  ): Promise<Response> {
    const url = new URL(this.s.endpoint);
    const path = `${url.pathname.replace(/\/$/, '')}/${enc(bucket)}${key ? `/${key.split('/').map(enc).join('/')}` : ''}`;
    const query = Object.entries(o.query ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${enc(k)}=${enc(v)}`)
      .join('&');
    let payloadHash = sha256('');
    let length = 0;
    if (Buffer.isBuffer(o.body)) {
      payloadHash = sha256(o.body);
      length = o.body.length;
    } else if (o.body) {
      payloadHash = await fileSha256(o.body.file);
      length = statSync(o.body.file).size;
    }
    const amzDate = (o.now ?? new Date())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
    };
    const signed = Object.keys(headers).sort();
    const canonical = [
      method,
      path,
      query,
      ...signed.map((h) => `${h}:${headers[h]}`),
      '',
      signed.join(';'),
      payloadHash,
    ].join('\n');
    const scope = `${day}/${this.s.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    const key4 = hmac(
      hmac(hmac(hmac(`AWS4${this.s.secretAccessKey}`, day), this.s.region), 's3'),
      'aws4_request',
    );
    const signature = createHmac('sha256', key4).update(toSign).digest('hex');
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers: {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${this.s.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
        ...(o.body ? { 'content-length': String(length) } : {}),
      },
    };
    if (Buffer.isBuffer(o.body)) init.body = new Uint8Array(o.body);
    else if (o.body) {
      init.body = Readable.toWeb(createReadStream(o.body.file)) as ReadableStream;
      init.duplex = 'half';
    }
    return fetch(`${url.origin}${path}${query ? `?${query}` : ''}`, init);
  }

  private static async check(r: Response, what: string): Promise<Response> {
    if (r.ok) return r;
    const text = await r.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new Error(`S3 ${what}: HTTP ${r.status}${code ? ` ${code}` : ''}`);
  }

  /** ListBuckets: answers only when the gateway has its identities and reaches its filer. */
  async listBuckets(): Promise<string[]> {
    const r = await S3Client.check(await this.send('GET', '', ''), 'list buckets');
    const xml = await r.text();
    return [...xml.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]);
  }

  async createBucket(bucket: string): Promise<void> {
    const r = await this.send('PUT', bucket, '');
    if (r.status === 409) return; // exists already
    await S3Client.check(r, `create bucket ${bucket}`);
  }

  async putFile(bucket: string, key: string, file: string): Promise<void> {
    await S3Client.check(
      await this.send('PUT', bucket, key, { body: { file } }),
      `upload s3://${bucket}/${key}`,
    );
  }

  async getFile(bucket: string, key: string, file: string): Promise<void> {
    const r = await S3Client.check(await this.send('GET', bucket, key), `download s3://${bucket}/${key}`);
    await pipeline(Readable.fromWeb(r.body as never), createWriteStream(file, { mode: 0o600 }));
  }

  /** Keys under a prefix (first 1000), oldest name first. */
  async list(bucket: string, prefix: string): Promise<string[]> {
    const r = await S3Client.check(
      await this.send('GET', bucket, '', { query: { 'list-type': '2', prefix } }),
      `list s3://${bucket}/${prefix}`,
    );
    const xml = await r.text();
    return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1].replace(/&amp;/g, '&')).sort();
  }

  async delete(bucket: string, key: string): Promise<void> {
    await S3Client.check(await this.send('DELETE', bucket, key), `delete s3://${bucket}/${key}`);
  }
}
