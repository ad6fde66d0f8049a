import { createClient, type Client } from '../api/client.ts';
import { loadCliConfig } from './config.ts';
import { nodeFetch } from './transport.ts';

export function apiClient(): Client {
  const c = loadCliConfig();
  if (!c.token) throw new Error('not logged in: run `grim login` (or set GRIM_TOKEN)');
  return createClient({ baseUrl: c.server.replace(/\/$/, ''), token: c.token, fetch: nodeFetch(c.caFile) });
}

/** Reads a secret from stdin (for --password-stdin) or prompts without echo on a terminal. */
export async function readSecret(prompt: string, fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write(prompt);
  process.stdin.setRawMode(true);
  let s = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          process.stdin.setRawMode(false);
          process.stdin.off('data', onData);
          process.stdin.pause();
          process.stderr.write('\n');
          return resolve(s);
        }
        if (ch === '\u0003') return reject(new Error('cancelled'));
        s = ch === '\u007f' ? s.slice(0, -1) : s + ch;
      }
    };
    process.stdin.on('data', onData);
    process.stdin.resume();
  });
}
