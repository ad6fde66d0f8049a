/**
 * A direct SeaweedFS client for the storage benchmark: the path `weed benchmark` takes (master assign, then
 * the volume server; master lookup, then the volume server), driven from the same Node process, host and
 * concurrency as the S3 client, so the S3 gateway's own cost can be told apart from the client's.
 *
 * Reads carry a volume read JWT: `weed benchmark` reads with a bare `GET` (weed/command/benchmark.go,
 * readFiles -> util_http.Get(url), no token), which a cluster with `[jwt.signing.read]` refuses with 401.
 * The token is what the filer mints for its own reads: HS256 over {"fid": "<vid>,<fid>", "exp"} with the read
 * key (weed/security/jwt.go, GenJwtForVolumeServer).
 */
import { createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A SeaweedFS volume-server JWT for one file id, as GenJwtForVolumeServer makes it. */
export function volumeJwt(key: string, fid: string, expiresAfterSec = 60): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ fid, exp: Math.floor(Date.now() / 1000) + expiresAfterSec }));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export interface Stored {
  fid: string;
  url: string;
}

async function json(r: Response, what: string) {
  if (!r.ok) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as any;
}

/** master /dir/assign, then a multipart POST to the volume server with the write JWT the master returned. */
export async function directWrite(
  master: string,
  body: Buffer,
  opts: { collection: string; replication: string },
): Promise<Stored> {
  const q = new URLSearchParams({ collection: opts.collection, replication: opts.replication });
  // a new collection's first assigns answer 503 while the master grows its volumes (weed's clients retry too)
  let a: any;
  for (let i = 0; ; i++) {
    const r = await fetch(`http://${master}/dir/assign?${q}`);
    if (r.status === 503 && i < 50) {
      await r.arrayBuffer();
      await delay(200);
      continue;
    }
    // the HTTP assign hands the write JWT out in the Authorization response header (gRPC's in `auth`)
    const header = r.headers.get('authorization');
    a = await json(r, 'assign');
    a.auth ||= header?.replace(/^bearer\s+/i, '');
    break;
  }
  if (a.error) throw new Error(`assign: ${a.error}`);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(body)], { type: 'application/octet-stream' }), 'bench');
  const w = await fetch(`http://${a.url}/${a.fid}`, {
    method: 'POST',
    body: form,
    headers: a.auth ? { Authorization: `BEARER ${a.auth}` } : {},
  });
  await json(w, `write ${a.fid}`);
  return { fid: a.fid, url: a.url };
}

/** master /dir/lookup, then a GET to the volume server with a read JWT signed by `readKey`. */
export async function directRead(master: string, fid: string, readKey: string): Promise<Buffer> {
  const vid = fid.split(',')[0];
  const l = await json(await fetch(`http://${master}/dir/lookup?volumeId=${vid}`), 'lookup');
  const url = l.locations?.[0]?.url;
  if (!url) throw new Error(`lookup ${fid}: no location`);
  const r = await fetch(`http://${url}/${fid}`, {
    headers: { Authorization: `BEARER ${volumeJwt(readKey, fid)}` },
  });
  if (!r.ok) throw new Error(`read ${fid}: HTTP ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

/** A bare GET as weed benchmark sends it: refused (401) on a cluster with read JWTs. */
export async function bareReadStatus(url: string, fid: string): Promise<number> {
  const r = await fetch(`http://${url}/${fid}`);
  await r.arrayBuffer();
  return r.status;
}
