import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { loadCliConfig } from './config.ts';

/** Follows a Server-Sent Events stream from the grim API, calling onEvent for each event. */
export function followEvents(path: string, onEvent: (event: string, data: any) => void): Promise<void> {
  const c = loadCliConfig();
  if (!c.token) return Promise.reject(new Error('not logged in: run `grim login` (or set GRIM_TOKEN)'));
  const u = new URL(c.server.replace(/\/$/, '') + path);
  const ca = c.caFile ? readFileSync(c.caFile) : undefined;
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { headers: { authorization: `Bearer ${c.token}`, accept: 'text/event-stream' }, ...(ca ? { ca } : {}) },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`event stream answered HTTP ${res.statusCode}`));
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) onEvent(event, JSON.parse(data.join('\n')));
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
