/**
 * A small S3 client for control-node backups: AWS Signature Version 4 over path-style URLs
 * (`<endpoint>/<bucket>/<key>`), so it works with any S3 endpoint (AWS, SeaweedFS, MinIO, Ceph RGW).
 * A file up to the part size (64 MiB) is uploaded with one signed PUT whose payload hash is computed from the
 * file first; a larger one as a multipart upload (CreateMultipartUpload, UploadPart for each range of the file,
 * CompleteMultipartUpload; AbortMultipartUpload when a step fails), so backups beyond S3's 5 GiB single-PUT
 * limit go too. Objects are downloaded as a stream. Settings: GRIM_S3_ENDPOINT (default AWS in the region),
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

/** A file, or the bytes start..end (inclusive) of it. */
interface FileBody {
  file: string;
  start?: number;
  end?: number;
}

const readBody = (b: FileBody) => createReadStream(b.file, { start: b.start, end: b.end });

async function fileSha256(b: FileBody): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of readBody(b)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** S3's rules: every part but the last at least 5 MiB, at most 10 000 parts. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
export const DEFAULT_PART_BYTES = 64 * 1024 * 1024;

/** The part size for a file: the one asked for, grown so the file fits in 10 000 parts. */
export function partSizeFor(size: number, wanted = DEFAULT_PART_BYTES): number {
  if (!Number.isInteger(wanted) || wanted < MIN_PART_BYTES)
    throw new RangeError(`an S3 part is at least ${MIN_PART_BYTES} bytes, got ${wanted}`);
  return Math.max(wanted, Math.ceil(size / MAX_PARTS));
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

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
    o: { query?: Record<string, string>; body?: Buffer | FileBody; now?: Date } = {},
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
      payloadHash = await fileSha256(o.body);
      length = o.body.end !== undefined ? o.body.end - (o.body.start ?? 0) + 1 : statSync(o.body.file).size;
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
      init.body = Readable.toWeb(readBody(o.body)) as ReadableStream;
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

  /** Uploads a file: one PUT up to the part size, a multipart upload above it. Returns the parts sent. */
  async putFile(
    bucket: string,
    key: string,
    file: string,
    o: { partBytes?: number } = {},
  ): Promise<{ parts: number }> {
    const size = statSync(file).size;
    const partBytes = partSizeFor(size, o.partBytes);
    if (size <= partBytes) {
      await S3Client.check(
        await this.send('PUT', bucket, key, { body: { file } }),
        `upload s3://${bucket}/${key}`,
      );
      return { parts: 1 };
    }
    const what = `multipart upload s3://${bucket}/${key}`;
    const created = await S3Client.check(
      await this.send('POST', bucket, key, { query: { uploads: '' } }),
      `${what}: create`,
    );
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1];
    if (!uploadId) throw new Error(`S3 ${what}: no UploadId in the answer`);
    try {
      const etags: string[] = [];
      for (let start = 0, n = 1; start < size; start += partBytes, n++) {
        const body = { file, start, end: Math.min(start + partBytes, size) - 1 };
        const r = await S3Client.check(
          await this.send('PUT', bucket, key, {
            query: { partNumber: String(n), uploadId },
            body,
          }),
          `${what}: part ${n}`,
        );
        const etag = r.headers.get('etag');
        if (!etag) throw new Error(`S3 ${what}: part ${n} has no ETag`);
        etags.push(etag);
        await r.body?.cancel();
      }
      const xml =
        '<CompleteMultipartUpload>' +
        etags
          .map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlText(e)}</ETag></Part>`)
          .join('') +
        '</CompleteMultipartUpload>';
      const done = await S3Client.check(
        await this.send('POST', bucket, key, { query: { uploadId }, body: Buffer.from(xml) }),
        `${what}: complete`,
      );
      // S3 may answer 200 and still fail the completion, with an <Error> document as the body.
      const answer = await done.text();
      const code = /<Error>[\s\S]*?<Code>([^<]+)<\/Code>/.exec(answer)?.[1];
      if (code) throw new Error(`S3 ${what}: complete: ${code}`);
      return { parts: etags.length };
    } catch (err) {
      await this.send('DELETE', bucket, key, { query: { uploadId } }).catch(() => undefined);
      throw err;
    }
  }

  /** Multipart uploads begun and neither completed nor aborted (key, upload id) under a prefix. */
  async listMultipartUploads(bucket: string, prefix = ''): Promise<Array<{ key: string; uploadId: string }>> {
    const r = await S3Client.check(
      await this.send('GET', bucket, '', { query: { uploads: '', prefix } }),
      `list multipart uploads s3://${bucket}/${prefix}`,
    );
    const xml = await r.text();
    return [...xml.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)].map((m) => ({
      key: /<Key>([^<]+)<\/Key>/.exec(m[1])?.[1] ?? '',
      uploadId: /<UploadId>([^<]+)<\/UploadId>/.exec(m[1])?.[1] ?? '',
    }));
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
