/* global process, Buffer, fetch, URL */
// A STAND-IN for Cortex, Loki, Tempo and Grafana in the monitoring lab test (their binaries cannot be installed
// here). It runs on a lab node as the executable of a recorded release, started by grim's supervisor with the
// arguments and config files grim generated, and listens where those files say. As Cortex it fronts a REAL
// Prometheus (Debian's, started here with its remote-write receiver): pushes to Cortex's path /api/v1/push need
// the X-Scope-OrgID tenant header (401 "no org id" without it, as Cortex answers) and go on to Prometheus, and
// /prometheus/api/v1/query reads back from it. As Loki, Tempo and Grafana it only answers their readiness paths
// and accepts pushes. Every request is appended to <config dir>/../data/stand-in-requests.jsonl.
// Plain JavaScript without dependencies: it runs on the lab node's own Node (the host's /usr/bin/node).
// Usage: node monitoring-stand-in.mjs <cortex|loki|tempo|grafana> <the component's own arguments>
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';

const [component, ...args] = process.argv.slice(2);
const configArg = args.find((a) => /^-{1,2}config(\.file)?=/.test(a));
if (!configArg) throw new Error(`${component} stand-in: no config file argument in ${args.join(' ')}`);
const configFile = configArg.slice(configArg.indexOf('=') + 1);
const text = readFileSync(configFile, 'utf8');
const dataDir = join(dirname(configFile), '..', 'data');
mkdirSync(dataDir, { recursive: true });
const record = (o) =>
  appendFileSync(join(dataDir, 'stand-in-requests.jsonl'), JSON.stringify({ component, ...o }) + '\n');

let address;
let port;
/** A value of grim's generated YAML (one `key: value` line; grim writes these unquoted). */
const yamlValue = (key) => new RegExp(`^\\s*${key}: (\\S+)$`, 'm').exec(text)[1];
if (component === 'grafana') {
  address = /^http_addr = (.+)$/m.exec(text)[1];
  port = Number(/^http_port = (\d+)$/m.exec(text)[1]);
} else {
  address = yamlValue('http_listen_address');
  port = Number(yamlValue('http_listen_port'));
}
record({
  event: 'started',
  args,
  cwd: process.cwd(),
  adminPasswordInEnv: !!process.env.GF_SECURITY_ADMIN_PASSWORD,
  adminPasswordInArgs:
    !!process.env.GF_SECURITY_ADMIN_PASSWORD &&
    args.join(' ').includes(process.env.GF_SECURITY_ADMIN_PASSWORD),
});

const body = (req) =>
  new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
const tenantOf = (req) => req.headers['x-scope-orgid'];

const PROM = 'http://127.0.0.1:19090';
const children = [];
if (component === 'cortex') {
  writeFileSync(join(dataDir, 'prometheus.yml'), 'scrape_configs: []\n');
  children.push(
    spawn(
      '/usr/bin/prometheus',
      [
        `--config.file=${join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'prometheus')}`,
        '--web.listen-address=127.0.0.1:19090',
        '--web.enable-remote-write-receiver',
      ],
      { stdio: 'inherit' },
    ),
  );
}

async function cortex(req, res, path) {
  if (path === '/ready') {
    const ok = await fetch(`${PROM}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    return res.writeHead(ok ? 200 : 503).end(ok ? 'ready' : 'prometheus not ready');
  }
  const tenant = tenantOf(req);
  if (!tenant) return res.writeHead(401).end('no org id');
  if (req.method === 'POST' && path === '/api/v1/push') {
    const b = await body(req);
    const h = {};
    for (const k of ['content-type', 'content-encoding', 'x-prometheus-remote-write-version'])
      if (req.headers[k]) h[k] = String(req.headers[k]);
    const r = await fetch(`${PROM}/api/v1/write`, { method: 'POST', headers: h, body: new Uint8Array(b) });
    record({ path, tenant, bytes: b.length, status: r.status });
    return res.writeHead(r.status).end(await r.text());
  }
  if (path === '/prometheus/api/v1/query') {
    const q = new URL(req.url, 'http://x').search;
    const r = await fetch(`${PROM}/api/v1/query${q}`);
    return res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
  }
  res.writeHead(404).end();
}

async function generic(req, res, path) {
  const ready = component === 'grafana' ? '/api/health' : '/ready';
  if (path === ready) return res.writeHead(200).end(component === 'grafana' ? '{"database":"ok"}' : 'ready');
  if (req.method === 'POST') {
    const b = await body(req);
    record({ path, tenant: tenantOf(req) ?? null, bytes: b.length });
    if (component === 'loki' && !tenantOf(req)) return res.writeHead(401).end('no org id');
    return res.writeHead(component === 'loki' ? 204 : 200).end();
  }
  res.writeHead(404).end();
}

const handle = (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  (component === 'cortex' ? cortex : generic)(req, res, path).catch((err) =>
    res.writeHead(502).end(String(err)),
  );
};
const servers = [createServer(handle).listen(port, address)];
if (component === 'tempo') {
  const otlp = /http:\s*\n\s*endpoint: (\S+)/.exec(text)[1];
  const i = otlp.lastIndexOf(':');
  servers.push(createServer(handle).listen(Number(otlp.slice(i + 1)), otlp.slice(0, i)));
}
const stop = () => {
  for (const c of children) c.kill('SIGTERM');
  for (const s of servers) s.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
