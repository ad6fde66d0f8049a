import { request } from 'node:http';

/** A logged-in browser-like session against a real grim server: its cookie and CSRF token. */
export interface HttpSession {
  url: string;
  cookie: string;
  csrf: string;
}

export async function loginSession(url: string, username: string, password: string): Promise<HttpSession> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const json = (await res.json()) as { csrfToken?: string };
  if (res.status !== 200)
    throw new Error(`login as ${username} failed: HTTP ${res.status} ${JSON.stringify(json)}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  return { url, cookie, csrf: json.csrfToken ?? '' };
}

/** Calls the API as that session (CSRF header on mutations). Throws with the server's message on >= 400. */
export async function api<T = any>(s: HttpSession, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { cookie: s.cookie };
  if (method !== 'GET') headers['x-csrf-token'] = s.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(s.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/**
 * Waits until `count` instances of an app run. When they do not, prints how far the deploy got (instances,
 * releases, jobs), so the UI assertions that follow fail with something to go on.
 */
export async function waitAppRunning(s: HttpSession, name: string, count: number, ms: number) {
  const end = Date.now() + ms;
  let app: any;
  do {
    app = (await api(s, 'GET', `/api/apps/${name}`)).app;
    if (app.instances.filter((x: any) => x.state === 'running').length === count) return;
    await new Promise((r) => setTimeout(r, 1500));
  } while (Date.now() < end);
  const jobs = await api(s, 'GET', '/api/jobs');
  console.log(
    `# ${name} after ${ms} ms: ${JSON.stringify({ instances: app.instances, releases: app.releases, jobs })}`.slice(
      0,
      20_000,
    ),
  );
}

/**
 * Attempts a WebSocket upgrade and reports what the server answered: 101 when it upgraded, else the
 * HTTP status of its refusal and the body (the error the server gave).
 */
export function upgradeStatus(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A fresh connection each time: a socket that carried an upgrade attempt is never reused.
    const req = request(`${url}${path}`, {
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
