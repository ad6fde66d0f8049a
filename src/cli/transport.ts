import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { FetchLike } from '../api/client.ts';

/** fetch over node:http(s), so the CLI can pin grim's own CA instead of trusting the system store. */
export function nodeFetch(caFile?: string): FetchLike {
  const ca = caFile ? readFileSync(caFile) : undefined;
  return (url, init) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method: init.method,
          headers: init.headers,
          ...(ca ? { ca } : {}),
          signal: init.signal,
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              text: async () => text,
              headers: {
                get: (n: string) => {
                  const v = res.headers[n.toLowerCase()];
                  return v === undefined ? null : Array.isArray(v) ? v.join('\n') : v;
                },
              },
            });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${u.host} within 30 s`)));
      req.on('error', reject);
      if (init.body) req.write(init.body);
      req.end();
    });
}
